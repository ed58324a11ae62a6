"""Aggregation of per-frame agreement into rates with intervals, overall and per stratum.

Frames carry weights ``1/π``. With all weights 1 the acceptance rate is a plain
binomial proportion (Wilson interval, Clopper–Pearson beside it); otherwise it
is the Hájek estimator with its design-based interval. Object-level rates
(precision, recall, mean IoU) are ratios over frames, so their intervals
account for objects of one frame being correlated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.annotations.model import BoolArray, FloatArray, IntArray
from analysis.stats import (
    Interval,
    RatioState,
    clopper_pearson_interval,
    ratio_interval,
    wilson_interval,
)


@dataclass(frozen=True)
class Rate:
    """An estimated rate with its interval; ``alternatives`` holds other intervals of it."""

    estimate: float
    interval: Interval
    alternatives: tuple[Interval, ...] = ()

    @property
    def lower(self) -> float:
        return self.interval.lower

    @property
    def upper(self) -> float:
        return self.interval.upper


@dataclass(frozen=True)
class StratumSummary:
    """Agreement over a set of frames; counts are unweighted, rates weighted by 1/π."""

    frames: int
    weighted: bool
    acceptance: Rate
    precision: Rate
    recall: Rate
    mean_iou: float
    tp: int
    fp: int
    fn: int

    @property
    def f1(self) -> float:
        p, r = self.precision.estimate, self.recall.estimate
        return 2 * p * r / (p + r) if p + r > 0 else math.nan


@dataclass(frozen=True, eq=False)
class FrameCounts:
    """The per-frame quantities a stratum summary is folded from."""

    accepted: BoolArray
    tp: IntArray
    fp: IntArray
    fn: IntArray
    iou_sum: FloatArray
    weight: FloatArray

    def select(self, mask: BoolArray) -> FrameCounts:
        return FrameCounts(*(getattr(self, f)[mask] for f in ("accepted", "tp", "fp", "fn", "iou_sum", "weight")))


def summarize(counts: FrameCounts, confidence: float = 0.95) -> StratumSummary:
    w = counts.weight
    weighted = bool(len(w) and not np.all(w == 1.0))
    prec = RatioState().add(counts.tp, counts.tp + counts.fp, w)
    rec = RatioState().add(counts.tp, counts.tp + counts.fn, w)
    iou = RatioState().add(counts.iou_sum, counts.tp, w)
    return StratumSummary(
        frames=len(w), weighted=weighted,
        acceptance=acceptance_rate(counts.accepted, w, confidence, weighted=weighted),
        precision=Rate(prec.estimate, ratio_interval(prec, confidence)),
        recall=Rate(rec.estimate, ratio_interval(rec, confidence)),
        mean_iou=iou.estimate, tp=int(counts.tp.sum()), fp=int(counts.fp.sum()), fn=int(counts.fn.sum()),
    )


def acceptance_rate(accepted: BoolArray, weight: FloatArray, confidence: float, *, weighted: bool) -> Rate:
    if not weighted:
        k, n = int(accepted.sum()), len(accepted)
        estimate = k / n if n else math.nan
        return Rate(estimate, wilson_interval(k, n, confidence), (clopper_pearson_interval(k, n, confidence),))
    state = RatioState().add(accepted.astype(np.float64), 1.0, weight)
    return Rate(state.estimate, ratio_interval(state, confidence))
