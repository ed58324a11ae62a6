"""nuScenes' precision/recall and true-positive error curves of one class at one distance threshold.

:func:`curves` is ``nuscenes.eval.detection.algo.accumulate`` after its matching:
precision and confidence interpolated at 101 recall points, and each error's
running mean re-sampled at those points' confidences. :func:`calc_ap` and
:func:`calc_tp` are the devkit's functions of the same names. The same numpy
operations in the same order give the same floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from analysis.annotations.model import BoolArray, FloatArray

N_RECALL = 101  # nuScenes' DetectionMetricData.nelem: recall 0, 0.01, ..., 1
ERRORS = ("trans_err", "scale_err", "orient_err")


@dataclass(frozen=True, eq=False)
class MetricCurves:
    """The devkit's ``DetectionMetricData`` without velocity and attribute errors (cuboids have neither)."""

    recall: FloatArray
    precision: FloatArray
    confidence: FloatArray
    errors: Mapping[str, FloatArray]  # each of ERRORS, at the 101 recall points

    @classmethod
    def no_predictions(cls) -> MetricCurves:
        ones = {name: np.ones(N_RECALL) for name in ERRORS}
        return cls(np.linspace(0, 1, N_RECALL), np.zeros(N_RECALL), np.zeros(N_RECALL), ones)

    @property
    def max_recall_ind(self) -> int:
        """Index of the highest recall reached: the last point with a confidence above 0."""
        non_zero = np.flatnonzero(self.confidence)
        return int(non_zero[-1]) if len(non_zero) else 0


def curves(score: FloatArray, matched: BoolArray, errors: Mapping[str, FloatArray], n_manual: int) -> MetricCurves:
    """The curves of one class from its detections' ``score`` and whether each ``matched`` (any
    order; ties in score are taken later-first, as the devkit sorts), each matched detection's
    ``errors`` (same order, entries of unmatched ones unused) and the count of manual objects."""
    if n_manual == 0 or not matched.any():
        return MetricCurves.no_predictions()
    order = np.lexsort((-np.arange(len(score)), -score))
    tp_flag, conf = matched[order], score[order]
    tp = np.cumsum(tp_flag).astype(float)
    fp = np.cumsum(~tp_flag).astype(float)
    precision = tp / (fp + tp)
    recall = tp / float(n_manual)
    recall_at = np.linspace(0, 1, N_RECALL)
    precision_at = np.interp(recall_at, recall, precision, right=0)
    conf_at = np.interp(recall_at, recall, conf, right=0)
    match_conf = conf[tp_flag]
    resampled = {
        name: np.interp(conf_at[::-1], match_conf[::-1], cummean(errors[name][order][tp_flag])[::-1])[::-1]
        for name in ERRORS
    }
    return MetricCurves(recall_at, precision_at, conf_at, resampled)


def cummean(x: FloatArray) -> FloatArray:
    """Running mean ignoring NaN (all NaN: ones), as the devkit's ``cummean``."""
    if np.isnan(x).all():
        return np.ones(len(x))
    sums = np.nancumsum(x.astype(float))
    counts = np.cumsum(~np.isnan(x))
    out: FloatArray = np.divide(sums, counts, out=np.zeros_like(sums), where=counts != 0)
    return out


def calc_ap(md: MetricCurves, min_recall: float, min_precision: float) -> float:
    """Mean precision above ``min_precision`` over the recall points past ``min_recall``, rescaled to [0, 1]."""
    prec = np.copy(md.precision)[round(100 * min_recall) + 1:]
    prec -= min_precision
    prec[prec < 0] = 0
    return float(np.mean(prec)) / (1.0 - min_precision)


def calc_tp(md: MetricCurves, min_recall: float, name: str) -> float:
    """Mean of error ``name`` from past ``min_recall`` up to the highest recall reached (1 if none)."""
    first = round(100 * min_recall) + 1
    last = md.max_recall_ind
    if last < first:
        return 1.0
    return float(np.mean(md.errors[name][first:last + 1]))
