"""The aggregator's whole state: per-stratum stats, the recommender's windowing and the policy in force.

The aggregator agent, ``shadowqa replay`` and the snapshot recomputation all
feed comparisons through this, so the same stream in the same order gives the
same statistics, recommendations and policies everywhere. Each (frame, kind) is
counted once (``services/loop/dedup.py``: a window of recent keys, not a set of
all history). With ``auto_apply`` every recommendation goes to the policy
authority (``analysis/policy/authority.py``), as do people's pins; whenever the
policy in force changes it gets the next version and is listed for publication,
and the largest weight 1/π a frame routed under that version can carry is
recorded for the recommender's bets. The state is plain data (``to_dict`` /
``from_dict``): the aggregator checkpoints it, so a restart reads only the tail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from analysis.policy.authority import PolicyAuthority
from analysis.policy.automation import AutomationPolicy
from analysis.policy.pins import Pin, Release
from analysis.recommend import Recommendation, Recommender
from analysis.sampling.evidence import StratumEvidence, evidence
from services.loop.aggregate import Folds, StatsFold, StratumFold
from services.loop.build import build_router
from services.loop.config import LoopConfig
from services.loop.dedup import SeenWindow, horizon
from services.loop.folds import RecommenderFold, RecommenderFoldState
from services.loop.messages import AgreementStats, ComparisonMessage


@dataclass(frozen=True)
class Added:
    """What a batch produced: the comparisons counted (duplicates dropped), the recommendations of the windows
    it closed, the policies put in force."""

    counted: list[ComparisonMessage] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    policies: list[AutomationPolicy] = field(default_factory=list)


@dataclass
class Aggregation:
    """Both folds' states under one ``LoopConfig``, the policy authority, the dedup window, comparisons counted."""

    config: LoopConfig
    folds: Folds = field(default_factory=dict)
    recommending: RecommenderFoldState = field(default_factory=RecommenderFoldState)
    counted: int = 0
    authority: PolicyAuthority = field(default_factory=PolicyAuthority)
    seen: SeenWindow = field(init=False)  # the keys counted within the config's horizon

    def __post_init__(self) -> None:
        self.seen = SeenWindow(horizon(self.config.pending_ttl))

    def add(self, batch: Iterable[ComparisonMessage]) -> list[Recommendation]:
        """Count ``batch`` in order; the recommendations of the windows it closes."""
        return self.add_all(batch).recommendations

    def add_all(self, batch: Iterable[ComparisonMessage]) -> Added:
        """Count ``batch`` in order (duplicates dropped); its recommendations and the policies they put in force."""
        stats, fold, out = StatsFold(), RecommenderFold(self.config), Added()
        for c in batch:
            if not self.seen.first(c):
                continue
            self.folds = stats.add(self.folds, c)
            self.recommending, recommendation = fold.add(self.recommending, c)
            self.counted += 1
            out.counted.append(c)
            if recommendation is not None:
                if self.config.auto_apply:
                    out.policies.extend(self._apply(self.authority.recommend(recommendation.policy)))
                # one numbering: the version of the policy in force after it (the authority's)
                policy = replace(recommendation.policy, version=self.authority.version)
                out.recommendations.append(replace(recommendation, policy=policy))
        return out

    def pin(self, event: Pin | Release) -> list[AutomationPolicy]:
        """A person's pin or release (a ``policy-pins`` record); the policy it puts in force, if it changes it."""
        return self._apply(self.authority.absorb(event))

    def _apply(self, authority: PolicyAuthority) -> list[AutomationPolicy]:
        changed = authority.version != self.authority.version
        self.authority = authority
        if not changed:
            return []
        policy = authority.effective()
        bound = build_router(self.config, policy).max_weight
        self.recommending = replace(self.recommending, bounds={**self.recommending.bounds, policy.version: bound})
        return [policy]

    def stats(self, strata: Iterable[str], *, time: float) -> list[AgreementStats]:
        """The current statistics of ``strata`` (sorted)."""
        return [self.folds[s].stats(s, target=self.config.target, alpha=self.config.alpha, time=time)
                for s in sorted(set(strata))]

    def evidence(self, frames: Mapping[str, int] | None = None) -> dict[str, StratumEvidence]:
        """Per stratum: the eligible frames' audited comparisons and their 1/π-weighted acceptance
        (``StratumFold.evidence``); ``frames`` (frames per stratum the policy in force would ship, counted by the
        router) when given."""
        return evidence({s: f.evidence() for s, f in self.folds.items()}, frames or {})

    @property
    def recommender(self) -> Recommender | None:
        return RecommenderFold(self.config).recommender(self.recommending)

    def to_dict(self) -> dict[str, Any]:
        return {"folds": {s: f.to_dict() for s, f in self.folds.items()},
                "recommending": self.recommending.to_dict(), "counted": self.counted,
                "authority": self.authority.state(), "seen": self.seen.to_dict()}

    @classmethod
    def from_dict(cls, config: LoopConfig, doc: Mapping[str, Any]) -> Aggregation:
        aggregation = cls(config, {s: StratumFold.from_dict(f) for s, f in doc["folds"].items()},
                          RecommenderFoldState.from_dict(doc["recommending"]), int(doc["counted"]),
                          PolicyAuthority.from_state(doc["authority"]))
        aggregation.seen = SeenWindow.from_dict(doc["seen"])
        return aggregation
