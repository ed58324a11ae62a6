"""What the recommender returns: frozen results with the evidence behind every number."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from analysis.policy.automation import AutomationPolicy
from analysis.recommend.guardrails import Action
from analysis.stats.ratio import RatioState, ratio_interval

ACTION_ORDER: tuple[Action, ...] = ("step_down", "lower", "raise", "hold")  # the first present wins overall


@dataclass(frozen=True)
class Agreement:
    """A 1/π-weighted acceptance (Hájek) with its Wilson-type interval."""

    estimate: float
    lower: float
    upper: float
    n: int
    confidence: float

    @classmethod
    def of(cls, ratio: RatioState, confidence: float) -> Agreement:
        interval = ratio_interval(ratio, confidence)
        return cls(ratio.estimate, interval.lower, interval.upper, ratio.n, confidence)


@dataclass(frozen=True)
class CandidateTest:
    """One step of the fixed sequence: the frames above τ, their acceptance and the test's p-value."""

    threshold: float
    n: int
    estimate: float  # Hájek acceptance of compared frames above τ (nan without any)
    lower: float  # its fixed-time lower bound at 1 − α, for reading; the decision is the p-value
    p_value: float  # anytime-valid, 1 / sup wealth
    passed: bool
    automation_rate: float  # estimated share of all frames above τ


@dataclass(frozen=True)
class DriftEvidence:
    """The detector's alarm: its statistic, the frames it had seen and their acceptance."""

    statistic: float  # the average CUSUM e-detector at the alarm
    threshold: float
    n: int
    estimate: float


@dataclass(frozen=True)
class StratumEvidence:
    """One stratum's decision and why."""

    stratum: str
    action: Action
    threshold: float  # recommended τ (inf: nothing ships)
    previous: float  # τ in force before this update
    certified: float  # lowest τ the fixed sequence passed (inf: none)
    automation_rate: float  # estimated at the recommended τ
    previous_rate: float  # estimated, with today's data, at the previous τ
    alpha: float  # level of this stratum's sequence (α split over strata)
    tested: tuple[CandidateTest, ...]  # the sequence up to and including its first non-rejection
    drift: DriftEvidence | None
    reason: str

    @property
    def chosen(self) -> CandidateTest | None:
        """The test of the recommended threshold, if it is a candidate that was tested."""
        return next((t for t in self.tested if t.threshold == self.threshold), None)


@dataclass(frozen=True)
class Recommendation:
    """Thresholds per stratum, the automation rate they imply, the action and its one-sentence reason."""

    policy: AutomationPolicy
    automation_rate: float
    action: Action
    reason: str
    strata: Mapping[str, StratumEvidence]
    machine_agreement: Agreement  # over every compared frame, weighted by 1/π
    human_floor: Agreement | None  # human-vs-human agreement on consensus pairs, when given
    target: float
    alpha: float

    @property
    def thresholds(self) -> dict[str, float]:
        return {stratum: evidence.threshold for stratum, evidence in self.strata.items()}


def overall_action(actions: list[Action]) -> Action:
    """Step-down beats lower beats raise beats hold: the most urgent stratum names the update."""
    return next(a for a in ACTION_ORDER if a in actions)


def finite_or_none(value: float) -> float | None:
    """For JSON: inf and nan as null."""
    return value if math.isfinite(value) else None
