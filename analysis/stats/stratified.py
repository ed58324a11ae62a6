"""The stratified estimate of an overall rate from per-stratum weighted ratios, with its interval.

With strata h of known sizes N_h (N = Σ N_h) and a Hájek ratio R̂_h with linearised variance v_h in each
(:class:`analysis.stats.RatioState`), the overall rate is estimated by

    R̂_st = Σ_h W_h·R̂_h,   v(R̂_st) = Σ_h W_h²·v_h,   W_h = N_h / N

(Cochran, *Sampling Techniques*, 3rd ed. 1977, §5.3, samples independent across strata). It is the
estimate whose variance Neyman allocation minimises at a fixed number of audits, so it is the interval
that shows what an allocation buys. The interval is Wilson's on the effective sample size
R̂(1 − R̂)/v, as :func:`analysis.stats.ratio_interval` builds its own. A stratum of positive size with
fewer than two observations has no variance estimate: the interval is then the whole of [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from analysis.stats.proportions import wilson_score
from analysis.stats.ratio import RatioState


@dataclass(frozen=True)
class StratifiedEstimate:
    """R̂_st, its variance and interval, and the observations behind it."""

    estimate: float
    variance: float
    lower: float
    upper: float
    n: int
    confidence: float

    @property
    def width(self) -> float:
        return self.upper - self.lower


def stratified_ratio(
    strata: Mapping[str, tuple[float, RatioState]], confidence: float = 0.95,
) -> StratifiedEstimate:
    """The stratified estimate over ``strata`` (name → (size N_h, observed ratio state)); sizes ≤ 0 are skipped."""
    used = {h: (size, state) for h, (size, state) in strata.items() if size > 0}
    total = sum(size for size, _ in used.values())
    n = sum(state.n for _, state in used.values())
    if total <= 0 or any(state.n < 2 for _, state in used.values()):
        estimate = math.nan if total <= 0 or any(s.n == 0 for _, s in used.values()) else _mean(used, total)
        return StratifiedEstimate(estimate, math.nan, 0.0, 1.0, n, confidence)
    estimate = _mean(used, total)
    variance = sum((size / total) ** 2 * state.variance for size, state in used.values())
    effective = estimate * (1.0 - estimate) / variance if variance > 0 and 0.0 < estimate < 1.0 else float(n)
    interval = wilson_score(min(1.0, max(0.0, estimate)), effective, confidence, "stratified-hajek-wilson")
    return StratifiedEstimate(estimate, variance, interval.lower, interval.upper, n, confidence)


def _mean(used: Mapping[str, tuple[float, RatioState]], total: float) -> float:
    return sum(size / total * state.estimate for size, state in used.values())
