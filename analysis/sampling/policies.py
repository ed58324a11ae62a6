"""Audit sampling policies: how likely a frame eligible to ship is sent to people anyway.

A policy is a value with a method: ``probability(frame, state)`` gives the
inclusion probability π of an eligible frame, ``observe`` folds the decision
into the running state. Only the budget wrapper keeps state; the others return
it unchanged. The draw itself (``u < π`` with ``u`` hashed from the frame id)
belongs to the router, so every policy is replayable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, Self

from analysis.policy.automation import FrameInfo
from analysis.sampling.evidence import Evidence
from analysis.sampling.exceptions import InvalidPolicy
from analysis.sampling.registry import register


@dataclass(frozen=True)
class SamplingState:
    """Running state of a stateful policy (the budget's window); plain data for a table."""

    window: int = -1  # index of the budget window, floor(time / window length)
    used: int = 0  # audit tasks issued in the window
    demand: float = 0.0  # Σ π the wrapped policy asked for in the window
    last_demand: float = 0.0  # the same over the previous window: the forecast


class SamplingPolicy(Protocol):
    """The contract the router calls for frames eligible to ship."""

    def probability(self, frame: FrameInfo, state: SamplingState) -> float:
        """π in (0, 1] for this frame given the running state."""
        ...

    def observe(self, state: SamplingState, frame: FrameInfo, sampled: bool) -> SamplingState:
        """The state after the router drew (``sampled``) or shipped this frame."""
        ...

    def with_evidence(self, evidence: Evidence) -> SamplingPolicy:
        """The policy adapted to what the loop has learnt per stratum (itself if it does not learn)."""
        ...


class Stateless:
    """Mixin for policies whose π depends on the frame alone (no running state, no learning)."""

    def observe(self, state: SamplingState, frame: FrameInfo, sampled: bool) -> SamplingState:
        return state

    def with_evidence(self, evidence: Evidence) -> Self:
        return self


def _check_probability(policy: str, name: str, value: float) -> None:
    if not 0.0 < value <= 1.0:
        raise InvalidPolicy("sampling policy", f"{policy}.{name}", f"must be in (0, 1], got {value}")


@register("uniform")
@dataclass(frozen=True)
class Uniform(Stateless):
    """Every eligible frame with the same probability: the simplest unbiased audit."""

    rate: float

    def __post_init__(self) -> None:
        _check_probability("Uniform", "rate", self.rate)

    def probability(self, frame: FrameInfo, state: SamplingState) -> float:
        return self.rate


@register("stratified")
@dataclass(frozen=True)
class Stratified(Stateless):
    """Target audit counts per stratum and window, turned into π from the arrivals expected.

    π = target / expected arrivals, clipped to [floor, 1]: a rare stratum (night,
    rain) gets as many audits per hour as a common one, which its own threshold
    needs. Strata without a target are audited at ``default``.
    """

    targets: Mapping[str, float]
    expected: Mapping[str, float]
    default: float = 0.02
    floor: float = 0.02

    def __post_init__(self) -> None:
        _check_probability("Stratified", "default", self.default)
        _check_probability("Stratified", "floor", self.floor)
        for stratum, count in self.targets.items():
            if not count >= 0.0:
                raise InvalidPolicy("sampling policy", f"Stratified.targets[{stratum}]", f"must be >= 0, got {count}")
            if not self.expected.get(stratum, 0.0) > 0.0:
                raise InvalidPolicy("sampling policy", f"Stratified.expected[{stratum}]",
                                    "a stratum with a target needs expected arrivals > 0")

    def probability(self, frame: FrameInfo, state: SamplingState) -> float:
        target = self.targets.get(frame.stratum)
        if target is None:
            return self.default
        return min(1.0, max(self.floor, target / self.expected[frame.stratum]))


@register("confidence")
@dataclass(frozen=True)
class ConfidenceWeighted(Stateless):
    """Lower confidence, more audits: π = min(cap, scale·(1 − confidence)^power + floor).

    Hard frames are where automation fails, so they are audited more; the floor
    keeps confident frames visible and the cap keeps π ≤ 1. A frame without a
    confidence is treated as the hardest.
    """

    scale: float = 1.0
    power: float = 1.0
    floor: float = 0.02
    cap: float = 1.0

    def __post_init__(self) -> None:
        _check_probability("ConfidenceWeighted", "floor", self.floor)
        _check_probability("ConfidenceWeighted", "cap", self.cap)
        if not (self.scale >= 0.0 and self.power > 0.0 and self.cap >= self.floor):
            raise InvalidPolicy("sampling policy", "ConfidenceWeighted",
                                "needs scale >= 0, power > 0 and cap >= floor")

    def probability(self, frame: FrameInfo, state: SamplingState) -> float:
        if math.isnan(frame.confidence):
            return self.cap
        doubt = min(1.0, max(0.0, 1.0 - frame.confidence))
        return min(self.cap, self.scale * math.pow(doubt, self.power) + self.floor)

