"""The aggregator's whole state: per-stratum stats and the recommender's windowing, fed one comparison at a time.

The aggregator agent, ``shadowqa replay`` and the snapshot recomputation all
feed comparisons through this, so the same stream in the same order gives the
same statistics and the same recommendations everywhere. Counting each
(frame, kind) once is the caller's rule (the agent's topic reader).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.recommend import Recommendation, Recommender
from services.loop.aggregate import Folds, StatsFold, StratumFold
from services.loop.config import LoopConfig
from services.loop.folds import RecommenderFold, RecommenderFoldState
from services.loop.messages import AgreementStats, ComparisonMessage


@dataclass
class Aggregation:
    """Both folds' states under one ``LoopConfig``, and how many comparisons they counted."""

    config: LoopConfig
    folds: Folds = field(default_factory=dict)
    recommending: RecommenderFoldState = field(default_factory=RecommenderFoldState)
    counted: int = 0

    def add(self, batch: Iterable[ComparisonMessage]) -> list[Recommendation]:
        """Count ``batch`` in order; the recommendations of the windows it closes."""
        stats, fold, out = StatsFold(), RecommenderFold(self.config), []
        for c in batch:
            self.folds = stats.add(self.folds, c)
            self.recommending, recommendation = fold.add(self.recommending, c)
            self.counted += 1
            if recommendation is not None:
                out.append(recommendation)
        return out

    def stats(self, strata: Iterable[str], *, time: float) -> list[AgreementStats]:
        """The current statistics of ``strata`` (sorted)."""
        return [self.folds[s].stats(s, target=self.config.target, alpha=self.config.alpha, time=time)
                for s in sorted(set(strata))]

    @property
    def recommender(self) -> Recommender | None:
        return RecommenderFold(self.config).recommender(self.recommending)

    def to_dict(self) -> dict[str, Any]:
        return {"folds": {s: f.to_dict() for s, f in self.folds.items()},
                "recommending": self.recommending.to_dict(), "counted": self.counted}

    @classmethod
    def from_dict(cls, config: LoopConfig, doc: Mapping[str, Any]) -> Aggregation:
        return cls(config, {s: StratumFold.from_dict(f) for s, f in doc["folds"].items()},
                   RecommenderFoldState.from_dict(doc["recommending"]), int(doc["counted"]))
