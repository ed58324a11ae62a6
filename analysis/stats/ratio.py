"""Weighted ratio estimation under unequal-probability sampling (Hájek / Horvitz–Thompson).

A ratio ``R = Σ w·y / Σ w·x`` with weights ``w = 1/π`` covers acceptance rate
(``y`` accepted, ``x = 1``), precision (``y = TP``, ``x = TP + FP``), recall and
mean IoU. Its variance is the linearised (Taylor) with-replacement estimator

    v(R) = n/(n-1) · Σ w²(y - R·x)² / (Σ w·x)²,

the same as R ``survey``'s ``svyratio`` without finite-population correction
and as the HC1 sandwich variance of a weighted least-squares mean. The state is
a handful of sums, so it folds one observation at a time and merges across
workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from analysis.stats.proportions import Interval, wilson_score

ArrayLike = npt.ArrayLike


@dataclass(frozen=True)
class RatioState:
    """Sufficient statistics of a weighted ratio; add observations, merge states."""

    n: int = 0
    sw: float = 0.0
    swx: float = 0.0
    swy: float = 0.0
    swwxx: float = 0.0
    swwxy: float = 0.0
    swwyy: float = 0.0

    def add(self, y: ArrayLike, x: ArrayLike = 1.0, w: ArrayLike = 1.0) -> RatioState:
        """The state after observing ``y`` over ``x`` with weight ``w`` (arrays broadcast)."""
        yy, xx, ww = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (y, x, w)))
        wx, wy = ww * xx, ww * yy
        return RatioState(
            n=self.n + yy.size, sw=self.sw + float(ww.sum()), swx=self.swx + float(wx.sum()),
            swy=self.swy + float(wy.sum()), swwxx=self.swwxx + float((wx * wx).sum()),
            swwxy=self.swwxy + float((wx * wy).sum()), swwyy=self.swwyy + float((wy * wy).sum()),
        )

    def merge(self, other: RatioState) -> RatioState:
        values = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        return RatioState(**values)

    @property
    def estimate(self) -> float:
        return self.swy / self.swx if self.swx > 0 else math.nan

    @property
    def variance(self) -> float:
        if self.n < 2 or self.swx <= 0:
            return math.nan
        r = self.estimate
        resid = max(0.0, self.swwyy - 2.0 * r * self.swwxy + r * r * self.swwxx)
        return self.n / (self.n - 1) * resid / (self.swx * self.swx)

    @property
    def kish_n(self) -> float:
        """Kish's effective sample size of the ``w·x`` weights."""
        return self.swx * self.swx / self.swwxx if self.swwxx > 0 else 0.0

    @property
    def effective_n(self) -> float:
        """Sample size a simple random sample would need for the same variance."""
        r, v = self.estimate, self.variance
        if 0.0 < r < 1.0 and v > 0:
            return r * (1.0 - r) / v
        return self.kish_n


def ratio_interval(state: RatioState, confidence: float = 0.95) -> Interval:
    """Wilson-type interval on the effective sample size (Korn–Graubard style).

    It keeps the design-based variance while staying inside [0, 1] and behaving
    at estimates of 0 or 1, where a Wald interval collapses to a point.
    """
    r, n = state.estimate, state.effective_n
    if math.isnan(r) or n <= 0:
        return Interval(0.0, 1.0, "hajek-wilson", confidence)
    return wilson_score(min(1.0, max(0.0, r)), n, confidence, "hajek-wilson")
