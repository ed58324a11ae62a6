"""Drift detection on the acceptance of audited shipped frames: a CUSUM e-detector.

Before a change, the frames above the threshold in force are accepted at a rate
θ ≥ c (the recommender certified that). For an audited frame with weight
``w = 1/π`` the factor ``e = 1 + λ·w·(c − A)`` then has mean ≤ 1 — among audited
frames, E[w·(c − A)] = (c − θ) / E[π] ≤ 0 — and stays ≥ 0 for
``λ ≤ 1 / (w_max·(1 − c))``. The CUSUM e-detector

    M_t = e_t · max(M_{t−1}, 1)

grows when acceptance falls below c. Several bets λ run side by side and the
alarm sounds when their average reaches A. Each CUSUM is below the matching
Shiryaev–Roberts process R_t = e_t·(R_{t−1} + 1), and the average of those
minus t is a supermartingale before the change (Shin, Ramdas & Rinaldo,
"E-detectors", 2023), so the average run length to a false alarm is at least A
audited frames and P(false alarm within H frames) ≤ H / A, for any weighting
with π ≥ 1/w_max and any θ ≥ c.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp

from analysis.annotations.model_types import BoolArray, FloatArray
from analysis.recommend.exceptions import InvalidConfig
from analysis.stats.ratio import RatioState


@dataclass(frozen=True)
class DetectorState:
    """The detector since its last reset: each bet's log CUSUM, the frames seen and their acceptance."""

    log_cusum: tuple[float, ...] = ()  # empty: nothing seen yet (every M_0 = 1)
    statistic: float = 0.0  # log of the average CUSUM at the last frame
    ratio: RatioState = field(default_factory=RatioState)

    @property
    def n(self) -> int:
        return self.ratio.n


@dataclass(frozen=True)
class Alarm:
    """Where in the batch the detector fired and what it had seen by then."""

    index: int  # position of the firing frame among the frames given to ``fold``
    state: DetectorState


@dataclass(frozen=True)
class DriftDetector:
    """Alarm when the average CUSUM reaches ``threshold`` (A): average run length to a false alarm ≥ A frames."""

    threshold: float = 1e4
    shares: tuple[float, ...] = (1 / 2, 1 / 8, 1 / 32, 1 / 128)  # bets as shares of the largest safe bet

    def __post_init__(self) -> None:
        if not self.threshold > 1.0:
            raise InvalidConfig("drift detector", "threshold", f"must be > 1, got {self.threshold}")
        if not self.shares or not all(0.0 < s <= 1.0 for s in self.shares):
            raise InvalidConfig("drift detector", "shares", "each share of the largest bet must be in (0, 1]")

    def fold(
        self, state: DetectorState, accepted: BoolArray, weight: FloatArray, target: float, max_weight: float,
    ) -> tuple[DetectorState, Alarm | None]:
        """The detector after the monitored frames, and the first alarm among them if any."""
        if accepted.size == 0:
            return state, None
        lam = np.asarray(self.shares)[:, None] / (max_weight * (1.0 - target))
        steps = np.log1p(lam * (weight * (target - accepted.astype(np.float64))))
        logs = _cusum(np.asarray(state.log_cusum or (0.0,) * len(self.shares)), steps)
        statistic = logsumexp(logs, axis=0) - math.log(len(self.shares))
        fired = np.flatnonzero(statistic >= math.log(self.threshold))
        end = int(fired[0]) + 1 if fired.size else accepted.size
        y = accepted[:end].astype(np.float64)
        after = DetectorState(
            log_cusum=tuple(float(v) for v in logs[:, end - 1]), statistic=float(statistic[end - 1]),
            ratio=state.ratio.add(y, 1.0, weight[:end]),
        )
        return after, (Alarm(end - 1, after) if fired.size else None)


def _cusum(start: FloatArray, steps: FloatArray) -> FloatArray:
    """log M_t for each row: L_t = step_t + max(L_{t−1}, 0), from the Lindley recursion in closed form.

    With W_t = max(0, L_t) = max(0, W_{t−1} + step_t) and S_t = W_0 + Σ_{i≤t} step_i,
    W_t = S_t − min(0, min_{k≤t} S_k); then L_t = step_t + W_{t−1}.
    """
    s = np.maximum(start, 0.0)[:, None] + np.cumsum(steps, axis=1)
    w = s - np.minimum(np.minimum.accumulate(s, axis=1), 0.0)
    previous = np.concatenate([np.maximum(start, 0.0)[:, None], w[:, :-1]], axis=1)
    logs: FloatArray = steps + previous
    return logs
