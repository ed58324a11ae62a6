"""The recommender's settings: target, α, candidate thresholds, strata, audit floor, guardrails, detector."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.policy.automation import ALL
from analysis.recommend.detector import DriftDetector
from analysis.recommend.exceptions import InvalidConfig
from analysis.recommend.guardrails import Guardrails

DEFAULT_CANDIDATES = tuple(round(0.99 - 0.01 * k, 2) for k in range(50))  # 0.99, 0.98, ..., 0.50
GRID_RATES = tuple(round(0.025 * k, 3) for k in range(1, 39))  # thresholds shipping 2.5%, 5%, ..., 95% of frames


@dataclass(frozen=True)
class RecommenderConfig:
    """Settings of one recommender; candidates are kept most conservative (highest τ) first.

    The candidate grid must be fixed before the data it is tested on: a grid
    from the confidences of earlier frames (``candidates_at_rates``) is fine.
    ``strata`` get thresholds of their own; every other frame falls under ALL,
    which is always present. α is split evenly over the strata, so the
    guarantee holds for all of them at once.
    """

    target: float = 0.95
    alpha: float = 0.05
    candidates: tuple[float, ...] = DEFAULT_CANDIDATES
    strata: tuple[str, ...] = (ALL,)
    audit_floor: float = 0.02  # smallest audit π the router uses: weights are at most 1 / floor
    guardrails: Guardrails = field(default_factory=Guardrails)
    detector: DriftDetector = field(default_factory=DriftDetector)

    def __post_init__(self) -> None:
        for name, value in (("target", self.target), ("alpha", self.alpha)):
            if not 0.0 < value < 1.0:
                raise InvalidConfig("recommender", name, f"must be in (0, 1), got {value}")
        if not 0.0 < self.audit_floor <= 1.0:
            raise InvalidConfig("recommender", "audit_floor", f"must be in (0, 1], got {self.audit_floor}")
        if not self.candidates or not all(math.isfinite(t) for t in self.candidates):
            raise InvalidConfig("recommender", "candidates", "need at least one finite threshold")
        object.__setattr__(self, "candidates", tuple(sorted(set(self.candidates), reverse=True)))
        strata = tuple(dict.fromkeys(self.strata))
        object.__setattr__(self, "strata", strata if ALL in strata else (*strata, ALL))

    @property
    def stratum_alpha(self) -> float:
        return self.alpha / len(self.strata)

    @property
    def max_weight(self) -> float:
        return 1.0 / self.audit_floor


def candidates_at_rates(confidences: Sequence[float], rates: Sequence[float]) -> tuple[float, ...]:
    """Thresholds that would ship about ``rates`` of frames like ``confidences``.

    Use confidences of frames that the test will not see (engine output before
    shadow mode, a calibration split): the grid must not depend on the tested
    frames' acceptance.
    """
    values = np.asarray(confidences, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise InvalidConfig("recommender", "candidates", "no finite confidences to place thresholds at")
    quantiles = np.quantile(values, 1.0 - np.clip(np.asarray(rates, dtype=np.float64), 0.0, 1.0))
    return tuple(sorted({float(q) for q in quantiles}, reverse=True))
