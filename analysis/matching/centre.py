"""nuScenes' greedy matching by centre distance, vectorised across frames.

Detections are taken in descending score order (ties: the later detection in
file order first, as nuScenes' ``accumulate`` sorts); each takes the closest
still-free manual object of its group whose centre is less than the threshold
away (ties: the earlier manual object). Frames are independent, so the n-th
detection of every group is resolved in one vectorised round.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from analysis.annotations.model import BoolArray, FloatArray, IntArray, Objects
from analysis.exceptions import InvalidInput
from analysis.geometry import Geometry
from analysis.matching.pairs import candidate_pairs
from analysis.matching.types import Matches


class HasCentres(Geometry, Protocol):
    """A geometry kind whose objects have centres (``cuboid3d``)."""

    def pair_distance(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        """Distance between the centres of each ``(dt[dt_idx[k]], gt[gt_idx[k]])``."""
        ...


def centre_match(
    dt: Objects, gt: Objects, *, dt_key: IntArray, gt_key: IntArray, n_keys: int,
    geometry: Geometry, max_distance: float | FloatArray, dt_small: BoolArray, gt_small: BoolArray,
) -> Matches:
    """Match regular manual objects by nuScenes' rule; an unmatched detection closer than
    ``max_distance`` to an ignored manual object (crowd, ignore flag, too small), or too
    small itself, is ignored. ``max_distance`` is one threshold, or each manual object's own.
    ``Matches.iou`` holds the matched pairs' IoU."""
    kind = with_centres(geometry)
    gt_ignored = gt.crowd | gt.ignore | gt_small
    limit = np.broadcast_to(np.asarray(max_distance, dtype=np.float64), (len(gt),))
    reach = float(limit.max()) if len(limit) else 0.0
    dp, gp = candidate_pairs(kind, dt, gt, dt_key, np.where(gt_ignored, -1, gt_key), n_keys, reach)
    match_of = greedy_nearest(dp, gp, kind.pair_distance(dt, gt, dp, gp), limit[gp], dt.score, dt_key)
    m_dt = np.flatnonzero(match_of >= 0)
    m_gt = match_of[m_dt]
    ip, ig = candidate_pairs(kind, dt, gt, np.where(match_of >= 0, -1, dt_key), np.where(gt_ignored, gt_key, -1),
                             n_keys, reach)
    on_ignored = np.zeros(len(dt), dtype=bool)
    on_ignored[ip[kind.pair_distance(dt, gt, ip, ig) < limit[ig]]] = True
    dt_ignored = (match_of < 0) & (on_ignored | dt_small)
    return Matches(m_dt, m_gt, kind.pair_iou(dt, gt, m_dt, m_gt), dt_ignored, gt_ignored)


def with_centres(geometry: Geometry) -> HasCentres:
    """``geometry`` if its objects have centres; else an error naming the kind."""
    if not callable(getattr(geometry, "pair_distance", None)):
        raise InvalidInput("options", "matching", f"centre matching needs a geometry kind with centres "
                           f"(cuboid3d), not '{geometry.kind}'")
    return geometry  # type: ignore[return-value]


def greedy_nearest(
    dp: IntArray, gp: IntArray, distance: FloatArray, max_distance: float | FloatArray, score: FloatArray,
    key: IntArray,
) -> IntArray:
    """For each detection, the manual object it matches (-1: none), given candidate pairs
    ``(dp, gp)`` of the same group, their centre ``distance`` and the threshold (one, or a pair's own)."""
    match_of = np.full(len(score), -1, dtype=np.int64)
    close = distance < max_distance
    dp, gp, distance = dp[close], gp[close], distance[close]
    if len(dp) == 0:
        return match_of
    rank = score_rank(score, key)[dp]
    by_rank = np.argsort(rank, kind="stable")
    dp, gp, distance, rank = dp[by_rank], gp[by_rank], distance[by_rank], rank[by_rank]
    bounds = np.flatnonzero(np.diff(rank)) + 1
    taken = np.zeros(int(gp.max()) + 1, dtype=bool)
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(dp)], strict=True):
        d, g, dist = dp[lo:hi], gp[lo:hi], distance[lo:hi]
        free = ~taken[g]
        d, g, dist = d[free], g[free], dist[free]
        order = np.lexsort((g, dist, d))  # per detection: closest, then earliest manual object
        first = order[np.r_[True, d[order][1:] != d[order][:-1]]] if len(order) else order
        match_of[d[first]] = g[first]
        taken[g[first]] = True
    return match_of


def score_rank(score: FloatArray, key: IntArray) -> IntArray:
    """Each detection's place in its group's descending-score order (ties: later in file order first)."""
    n = len(score)
    order = np.lexsort((-np.arange(n), -score, key))
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]]) if n else np.zeros(0, dtype=np.int64)
    ranks = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    out = np.empty(n, dtype=np.int64)
    out[order] = ranks
    return out
