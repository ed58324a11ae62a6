"""Confidence intervals for a binomial proportion (unweighted counts)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class Interval:
    """A two-sided interval with the method and confidence level that produced it."""

    lower: float
    upper: float
    method: str
    confidence: float


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> Interval:
    """Wilson score interval; for ``n = 0`` the whole of [0, 1]."""
    if n <= 0:
        return Interval(0.0, 1.0, "wilson", confidence)
    return wilson_score(successes / n, n, confidence, "wilson")


def wilson_score(p: float, n: float, confidence: float, method: str) -> Interval:
    """Wilson's score interval for an estimate ``p`` worth ``n`` observations.

    At ``p = 0`` (``p = 1``) the bound is exactly 0 (1), which rounding of
    ``center ∓ half`` would otherwise miss by an ulp and exclude the estimate.
    """
    z = _z(confidence)
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    lower = 0.0 if p <= 0.0 else max(0.0, center - half)
    upper = 1.0 if p >= 1.0 else min(1.0, center + half)
    return Interval(lower, upper, method, confidence)


def clopper_pearson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Exact (Clopper–Pearson) interval from beta quantiles; never narrower than nominal."""
    if n <= 0:
        return Interval(0.0, 1.0, "clopper-pearson", confidence)
    from scipy.special import betaincinv  # on first use: scipy costs ~0.1 s of start-up

    tail = (1.0 - confidence) / 2.0
    lower = 0.0 if successes == 0 else float(betaincinv(successes, n - successes + 1, tail))
    upper = 1.0 if successes == n else float(betaincinv(successes + 1, n - successes, 1.0 - tail))
    return Interval(lower, upper, "clopper-pearson", confidence)
