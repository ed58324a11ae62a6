"""The recommender's running state: plain frozen data, one record per stratum (a faust table row later)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from analysis.recommend.betting import CandidateState
from analysis.recommend.detector import DetectorState
from analysis.stats.ratio import RatioState


@dataclass(frozen=True)
class StratumState:
    """One stratum: the threshold in force, this epoch's tests, the automation-rate sums, the detector.

    An epoch starts at the beginning and after every drift step-down; the
    tests and the detector restart with it, the confidence sums do not.
    """

    threshold: float = math.inf
    candidates: tuple[CandidateState, ...] = ()  # one per candidate τ, most conservative first
    weight_above: tuple[float, ...] = ()  # Σ 1/π of compared frames with confidence ≥ τ_k
    weight_total: float = 0.0  # Σ 1/π of all compared frames: the estimated number of frames
    detector: DetectorState = field(default_factory=DetectorState)
    epoch: int = 0

    def rates(self) -> tuple[float, ...]:
        """Estimated automation rate at each candidate: the weighted share of frames above it."""
        if self.weight_total <= 0.0:
            return tuple(0.0 for _ in self.weight_above)
        return tuple(w / self.weight_total for w in self.weight_above)


@dataclass(frozen=True)
class RecommenderState:
    """Every stratum's state, the machine's and the humans' agreement so far, and the policy version."""

    strata: Mapping[str, StratumState]
    machine: RatioState = field(default_factory=RatioState)
    human: RatioState = field(default_factory=RatioState)
    version: int = 0
    updates: int = 0
