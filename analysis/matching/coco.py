"""pycocotools' per-image matching, reproduced exactly and vectorised across frames.

Detections are taken in descending score order (stable for ties) and limited to
``max_dets`` per image and category; each takes the best still-free manual
object with IoU >= threshold, preferring regular objects over ignored ones
(crowd, or area outside the range); among equal IoUs the later object wins;
crowd regions absorb any number of detections. Groups where objects compete
run the original greedy loop; all others resolve in bulk, with the same result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.annotations.model import BoolArray, FloatArray, IntArray, Objects
from analysis.geometry import Geometry
from analysis.matching.pairs import rank_within_key, same_key_pairs, split_by_key
from analysis.matching.types import Matches


@dataclass(frozen=True)
class CocoRules:
    threshold: float
    max_dets: int
    area_range: tuple[float, float]


def coco_match(
    dt: Objects, gt: Objects, *, dt_key: IntArray, gt_key: IntArray, n_keys: int,
    geometry: Geometry, rules: CocoRules, dt_small: BoolArray, gt_small: BoolArray,
) -> Matches:
    lo, hi = rules.area_range
    kept = rank_within_key(dt.score, dt_key) < rules.max_dets  # the max_dets best per key
    gt_ign = gt.crowd | (gt.area < lo) | (gt.area > hi) | gt_small
    dp, gp = same_key_pairs(np.where(kept, dt_key, -1), gt_key, n_keys)
    iou = geometry.pair_iou(dt, gt, dp, gp)
    thr = min(rules.threshold, 1 - 1e-10)
    match_of = np.full(len(dt), -1, dtype=np.int64)
    match_iou = np.zeros(len(dt))
    slow = _contested_keys(dp, gp, iou >= thr, gt_ign, gt.crowd, dt_key, len(dt), len(gt))
    fast = ~np.isin(dt_key[dp], slow)
    _resolve_bulk(dp[fast], gp[fast], iou[fast], thr, gt_ign, match_of, match_iou)
    _resolve_greedy(dp[~fast], gp[~fast], iou[~fast], dt, thr, gt_ign, gt.crowd, dt_key, match_of, match_iou)
    tp = match_of >= 0
    tp[tp] = ~gt_ign[match_of[tp]]
    dt_out = (dt.area < lo) | (dt.area > hi) | dt_small
    dt_ignored = ~kept | ((match_of >= 0) & ~tp) | ((match_of < 0) & dt_out)
    tp_idx = np.flatnonzero(tp)
    return Matches(tp_idx, match_of[tp_idx], match_iou[tp_idx], dt_ignored, gt_ign)


def _contested_keys(
    dp: IntArray, gp: IntArray, cand: BoolArray, gt_ign: BoolArray, crowd: BoolArray,
    dt_key: IntArray, n_dt: int, n_gt: int,
) -> IntArray:
    """Keys where a detection has two regular candidates, a regular object has two
    candidate detections, or a non-crowd ignored object has two: order matters there."""
    reg = cand & ~gt_ign[gp]
    once = cand & gt_ign[gp] & ~crowd[gp]
    deg_d = np.bincount(dp[reg], minlength=n_dt)
    deg_g = np.bincount(gp[reg], minlength=n_gt) + np.bincount(gp[once], minlength=n_gt)
    bad = cand & ((deg_d[dp] > 1) | (deg_g[gp] > 1))
    return np.unique(dt_key[dp[bad]])


def _resolve_bulk(
    dp: IntArray, gp: IntArray, iou: FloatArray, thr: float, gt_ign: BoolArray,
    match_of: IntArray, match_iou: FloatArray,
) -> None:
    cand = iou >= thr
    reg = cand & ~gt_ign[gp]
    match_of[dp[reg]] = gp[reg]
    match_iou[dp[reg]] = iou[reg]
    ig = np.flatnonzero(cand & gt_ign[gp] & (match_of[dp] < 0))
    if len(ig) == 0:
        return
    order = ig[np.lexsort((gp[ig], iou[ig], dp[ig]))]  # best IoU, then later object, last
    last = np.r_[dp[order][1:] != dp[order][:-1], True]
    best = order[last]
    match_of[dp[best]] = gp[best]
    match_iou[dp[best]] = iou[best]


def _resolve_greedy(
    dp: IntArray, gp: IntArray, iou: FloatArray, dt: Objects, thr: float,
    gt_ign: BoolArray, crowd: BoolArray, dt_key: IntArray, match_of: IntArray, match_iou: FloatArray,
) -> None:
    for group in split_by_key(dt_key[dp]):
        rows = np.unique(dp[group])
        rows = rows[np.argsort(-dt.score[rows], kind="stable")]
        cols = np.unique(gp[group])
        cols = cols[np.argsort(gt_ign[cols], kind="stable")]
        ious = np.zeros((len(rows), len(cols)))
        ious[_positions(rows, dp[group]), _positions(cols, gp[group])] = iou[group]
        _greedy(rows, cols, ious, thr, gt_ign[cols], crowd[cols], match_of, match_iou)


def _positions(order: IntArray, values: IntArray) -> IntArray:
    sorter = np.argsort(order)
    return sorter[np.searchsorted(order, values, sorter=sorter)]


def _greedy(
    rows: IntArray, cols: IntArray, ious: FloatArray, thr: float, ign: BoolArray, crowd: BoolArray,
    match_of: IntArray, match_iou: FloatArray,
) -> None:
    """pycocotools' ``evaluateImg`` inner loop for one image, category and threshold."""
    taken = np.zeros(len(cols), dtype=bool)
    for d in range(len(rows)):
        best, m = thr, -1
        for g in range(len(cols)):
            if taken[g] and not crowd[g]:
                continue
            if m > -1 and not ign[m] and ign[g]:
                break
            if ious[d, g] < best:
                continue
            best, m = ious[d, g], g
        if m == -1:
            continue
        taken[m] = True
        match_of[rows[d]] = cols[m]
        match_iou[rows[d]] = ious[d, m]
