"""pycocotools' ``COCOeval.accumulate()``: ranked TP/FP flags into interpolated precision and recall.

Detections of one class are ranked as pycocotools ranks them, then per IoU
threshold precision is made non-increasing from the right and read at 101
recall points. Each step copies pycocotools' arithmetic, so values are equal to
the last bit rather than merely close.
"""

from __future__ import annotations

import math

import numpy as np

from analysis.annotations.model import BoolArray, FloatArray, IntArray

# pycocotools' Params.recThrs, built by the same expression so the floats are identical.
RECALL_THRESHOLDS: FloatArray = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
RECALL_THRESHOLDS.setflags(write=False)


def detection_ranking(score: FloatArray, image_id: IntArray, category: IntArray) -> IntArray:
    """Detection indices grouped by ``category``, each group in pycocotools' accumulation order.

    pycocotools concatenates images in ascending image id, each image's
    detections already sorted by descending score (stable, file order), then
    stable-sorts the whole by descending score: so the order is descending
    score, ties by ascending image id, then by position in the file.
    ``image_id`` is per detection; detections of one image must be in file order.
    """
    return np.lexsort((np.arange(len(score)), image_id, -score, category)).astype(np.int64)


def class_curve(tp: BoolArray, fp: BoolArray, n_manual: int) -> tuple[FloatArray, FloatArray]:
    """Interpolated precision ``(T, R)`` at :data:`RECALL_THRESHOLDS` and final recall ``(T,)`` of one class.

    ``tp``/``fp`` are ``(T, D)`` flags of the class's detections in ranking
    order, one row per IoU threshold (an ignored detection is neither);
    ``n_manual`` > 0 counts its non-ignored manual objects. Precision is 0 at
    recall points the detections never reach, as in pycocotools.
    """
    n_thresholds, n_dets = tp.shape
    tp_sum = np.cumsum(tp, axis=1).astype(np.float64)
    fp_sum = np.cumsum(fp, axis=1).astype(np.float64)
    rc = tp_sum / n_manual
    pr = tp_sum / (fp_sum + tp_sum + np.spacing(1))
    envelope = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
    precision = np.zeros((n_thresholds, len(RECALL_THRESHOLDS)))
    for t in range(n_thresholds):
        at = np.searchsorted(rc[t], RECALL_THRESHOLDS, side="left")
        reached = at < n_dets
        precision[t, reached] = envelope[t, at[reached]]
    recall = rc[:, -1].copy() if n_dets else np.zeros(n_thresholds)
    return precision, recall


def accumulate(
    tp: BoolArray, fp: BoolArray, ranking: IntArray, category: IntArray, n_manual: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """Precision ``(T, R, K)`` and recall ``(T, K)`` of every class; NaN for classes without manual objects.

    ``tp``/``fp`` are ``(T, N)`` flags of all detections, ``ranking`` is
    :func:`detection_ranking`, ``category`` the detections' dense class index
    and ``n_manual`` the non-ignored manual objects per class (pycocotools'
    ``npig``; it reports -1 where that is 0).
    """
    n_classes = len(n_manual)
    bounds = np.searchsorted(category[ranking], np.arange(n_classes + 1), side="left")
    precision = np.full((tp.shape[0], len(RECALL_THRESHOLDS), n_classes), np.nan)
    recall = np.full((tp.shape[0], n_classes), np.nan)
    for k in np.flatnonzero(n_manual > 0).tolist():
        rows = ranking[bounds[k]:bounds[k + 1]]
        precision[:, :, k], recall[:, k] = class_curve(tp[:, rows], fp[:, rows], int(n_manual[k]))
    return precision, recall


def mean_defined(values: FloatArray) -> float:
    """Mean of the non-NaN entries in C order (pycocotools' ``np.mean(s[s > -1])``); NaN if none."""
    defined = values[~np.isnan(values)]
    return float(np.mean(defined)) if defined.size else math.nan
