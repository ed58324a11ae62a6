"""Running agreement per stratum as a mergeable fold: what the aggregator keeps in its table.

Only sums (``RatioState``) are kept, so the result does not depend on the order
comparisons arrive in or on how partitions are split between workers: the
online aggregator and an offline replay of a snapshot give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from analysis.gate import Decision
from analysis.stats import RatioState, ratio_interval
from services.loop.messages.decisions import AgreementStats, ComparisonMessage, HumanFloor


@dataclass(frozen=True)
class StratumFold:
    """Weighted acceptance of machine comparisons and of consensus pairs in one stratum."""

    machine: RatioState = field(default_factory=RatioState)
    people: RatioState = field(default_factory=RatioState)
    model_version: str = ""
    sampled: RatioState = field(default_factory=RatioState)  # machine comparisons audited at π < 1

    def add(self, c: ComparisonMessage) -> StratumFold:
        accepted, weight = (1.0 if c.accepted else 0.0), 1.0 / c.inclusion_prob
        if c.kind == "consensus":
            return replace(self, people=self.people.add(accepted, 1.0, weight))
        sampled = self.sampled.add(accepted, 1.0, weight) if c.inclusion_prob < 1.0 else self.sampled
        return StratumFold(self.machine.add(accepted, 1.0, weight), self.people, c.model_version or self.model_version,
                           sampled)

    def merge(self, other: StratumFold) -> StratumFold:
        return StratumFold(self.machine.merge(other.machine), self.people.merge(other.people),
                           other.model_version or self.model_version, self.sampled.merge(other.sampled))

    def evidence(self) -> tuple[int, float]:
        """What a learning sampling policy is told: the frames it samples are those eligible to ship, audited at
        π < 1, so their 1/π-weighted acceptance (all machine comparisons' until one such frame is compared)."""
        fold = self.sampled if self.sampled.n else self.machine
        return fold.n, fold.estimate if fold.n else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"machine": asdict(self.machine), "people": asdict(self.people), "model_version": self.model_version,
                "sampled": asdict(self.sampled)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> StratumFold:
        return cls(RatioState(**doc["machine"]), RatioState(**doc["people"]), doc["model_version"],
                   RatioState(**doc["sampled"]))

    def stats(self, stratum: str, *, target: float, alpha: float, time: float) -> AgreementStats:
        """The stratum's estimate with its fixed-time (1 − α) interval; ``decision`` reads that
        interval against the target (for dashboards: rollout gates use the anytime-valid gate)."""
        interval = ratio_interval(self.machine, 1.0 - alpha)
        estimate = self.machine.estimate if self.machine.n else None
        decision: Decision = "inconclusive"
        if interval.lower >= target:
            decision = "pass"
        elif interval.upper < target:
            decision = "fail"
        return AgreementStats(
            stratum=stratum, model_version=self.model_version, n=self.machine.n, estimate=estimate,
            lower=interval.lower, upper=interval.upper, decision=decision, target=target, alpha=alpha,
            human_floor=_floor(self.people, alpha), time=time,
        )


def _floor(people: RatioState, alpha: float) -> HumanFloor | None:
    if people.n == 0:
        return None
    interval = ratio_interval(people, 1.0 - alpha)
    return HumanFloor(estimate=people.estimate, lower=interval.lower, upper=interval.upper, n=people.n)


Folds = Mapping[str, StratumFold]


class StatsFold:
    """Per-stratum agreement as a fold (``initialize / add / result``): the aggregator's statistics."""

    def initialize(self) -> Folds:
        return {}

    def add(self, state: Folds, c: ComparisonMessage) -> Folds:
        return {**state, c.stratum: state.get(c.stratum, StratumFold()).add(c)}

    def result(self, state: Folds, *, target: float, alpha: float, time: float) -> dict[str, AgreementStats]:
        return {s: f.stats(s, target=target, alpha=alpha, time=time) for s, f in sorted(state.items())}


def fold_all(comparisons: Iterable[ComparisonMessage]) -> dict[str, StratumFold]:
    """Every stratum's fold over ``comparisons`` (the offline path)."""
    fold, state = StatsFold(), StatsFold().initialize()
    for c in comparisons:
        state = fold.add(state, c)
    return dict(state)
