"""Optimal one-to-one matching: the most pairs with IoU >= threshold, then the largest
total IoU. Right for two annotations of one frame when neither side has scores."""

from __future__ import annotations

import numpy as np

from analysis.annotations.model import BoolArray, FloatArray, IntArray, Objects
from analysis.geometry import Geometry
from analysis.matching.pairs import pairs_at_least, split_by_key
from analysis.matching.types import Matches


def hungarian_match(
    dt: Objects, gt: Objects, *, dt_key: IntArray, gt_key: IntArray, n_keys: int,
    geometry: Geometry, threshold: float, dt_small: BoolArray, gt_small: BoolArray,
) -> Matches:
    """Match regular manual objects optimally; unmatched detections that fall on an
    ignored region (crowd, ignore flag, too small) or are too small themselves are ignored."""
    gt_ignored = gt.crowd | gt.ignore | gt_small
    dp, gp, iou = pairs_at_least(geometry, dt, gt, dt_key, np.where(gt_ignored, -1, gt_key), n_keys, threshold)
    chosen = optimal_pairs(dp, gp, iou, dt_key[dp], len(dt), len(gt))
    m_dt, m_gt, m_iou = dp[chosen], gp[chosen], iou[chosen]
    matched = np.zeros(len(dt), dtype=bool)
    matched[m_dt] = True
    on_ignored = np.zeros(len(dt), dtype=bool)
    if gt_ignored.any():
        hit, _, _ = pairs_at_least(geometry, dt, gt, np.where(matched, -1, dt_key), np.where(gt_ignored, gt_key, -1),
                                   n_keys, threshold)
        on_ignored[hit] = True
    dt_ignored = ~matched & (on_ignored | dt_small)
    return Matches(m_dt, m_gt, m_iou, dt_ignored, gt_ignored)


def optimal_pairs(
    dp: IntArray, gp: IntArray, iou: FloatArray, key: IntArray, n_dt: int, n_gt: int
) -> BoolArray:
    """Which candidate pairs form a maximum-cardinality, maximum-IoU matching.

    Pairs whose endpoints have no other candidate are taken as they are; only
    groups where objects compete go through ``linear_sum_assignment``.
    """
    deg_dt = np.bincount(dp, minlength=n_dt)
    deg_gt = np.bincount(gp, minlength=n_gt)
    contested = (deg_dt[dp] > 1) | (deg_gt[gp] > 1)
    chosen = ~contested
    idx = np.flatnonzero(contested)
    for group in split_by_key(key[idx]):
        sel = idx[group]
        chosen[sel] = _assign(dp[sel], gp[sel], iou[sel])
    return chosen


def _assign(dp: IntArray, gp: IntArray, iou: FloatArray) -> BoolArray:
    from scipy.optimize import linear_sum_assignment  # on first use: ~0.3 s to import

    rows, r = np.unique(dp, return_inverse=True)
    cols, c = np.unique(gp, return_inverse=True)
    weight = np.zeros((len(rows), len(cols)))
    weight[r, c] = min(len(rows), len(cols)) + 1.0 + iou  # cardinality first, then IoU
    ri, ci = linear_sum_assignment(weight, maximize=True)
    taken = np.zeros_like(weight, dtype=bool)
    taken[ri, ci] = weight[ri, ci] > 0
    return taken[r, c]
