"""Reference: the one-sided betting confidence sequence of Waudby-Smith & Ramdas (JRSS-B 2024),
written out in plain Python floats, one candidate mean and one observation at a time.

With every weight 1 it is the paper's predictable plug-in (PrPl) bet — as in the
authors' ``confseq`` package: ``lambda_predmix_eb`` with prior mean 1/2, prior
variance 1/4, one pseudo-observation — under the hedged-capital truncations
c/m and c/(1 − m), c = 1/2, each side tested alone at level α. Weights enter only
as ``v = w / max_weight`` multiplying each outcome's deviation. The bounds are the
largest (smallest) rejected grid point, as running intersections; the reference
checks that the rejected points form one run from each end, the monotonicity the
fast implementation relies on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    estimate: list[float]
    lower: list[float]
    upper: list[float]


def betting_cs(
    accepted: Sequence[bool], weights: Sequence[float], grid: Sequence[float], alpha: float = 0.05,
    max_weight: float = 1.0,
) -> Bounds:
    threshold = math.log(1.0 / alpha)
    up = [0.0] * len(grid)
    down = [0.0] * len(grid)
    sum_v = sum_va = sum_sq = 0.0
    lower, upper = 0.0, 1.0
    out = Bounds([], [], [])
    for t, (outcome, w) in enumerate(zip(accepted, weights, strict=True), start=1):
        a, v = float(outcome), w / max_weight
        variance = (0.25 + sum_sq) / t
        lam = math.sqrt(2.0 * math.log(1.0 / alpha) / (variance * t * math.log1p(t)))
        for j, m in enumerate(grid):
            up[j] += math.log1p(min(lam, 0.5 / m if m > 0 else math.inf) * v * (a - m))
            down[j] += math.log1p(min(lam, 0.5 / (1.0 - m) if m < 1 else math.inf) * v * (m - a))
        sum_v += v
        sum_va += v * a
        sum_sq += (v * (a - (0.5 + sum_va) / (1.0 + sum_v))) ** 2
        rejected_up = [c >= threshold for c in up]
        rejected_down = [c >= threshold for c in down]
        assert rejected_up == sorted(rejected_up, reverse=True), "lower-side rejections are not a run from 0"
        assert rejected_down == sorted(rejected_down), "upper-side rejections are not a run to 1"
        lower = max([lower] + [m for m, r in zip(grid, rejected_up, strict=True) if r])
        upper = min([upper] + [m for m, r in zip(grid, rejected_down, strict=True) if r])
        out.estimate.append(sum_va / sum_v)
        out.lower.append(lower)
        out.upper.append(upper)
    return out
