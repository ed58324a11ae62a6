"""Candidate pairs across many frames at once: every (automation, manual) pair that
shares a group key (a frame, or a frame and class), generated without Python loops."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from analysis.annotations.model import FloatArray, IntArray, Objects


def same_key_pairs(dt_key: IntArray, gt_key: IntArray, n_keys: int) -> tuple[IntArray, IntArray]:
    """All ``(i, j)`` with ``dt_key[i] == gt_key[j] >= 0``.

    Pairs come grouped by ``i`` ascending; within one ``i``, ``j`` ascends, so
    file order inside a frame is kept (tie rules depend on it).
    """
    dt_ids = np.flatnonzero(dt_key >= 0)
    gt_ids = np.flatnonzero(gt_key >= 0)
    gk = gt_key[gt_ids]
    gt_sorted = gt_ids[np.argsort(gk, kind="stable")]
    counts = np.bincount(gk, minlength=n_keys)
    starts = np.cumsum(counts) - counts
    dk = dt_key[dt_ids]
    reps = counts[dk]
    total = int(reps.sum())
    first = np.cumsum(reps) - reps
    offsets = np.repeat(starts[dk] - first, reps) + np.arange(total)
    return np.repeat(dt_ids, reps).astype(np.int64), gt_sorted[offsets].astype(np.int64)


def group_keys(frame: IntArray, category: IntArray, n_categories: int, class_aware: bool) -> IntArray:
    """The group key of each object: its frame, or its (frame, class) cell."""
    return frame * n_categories + category if class_aware else frame.copy()


def rank_within_key(score: FloatArray, key: IntArray) -> IntArray:
    """Each object's place in its key's descending-score order, from 0 (ties: earlier in file order first)."""
    by_score = np.argsort(-score, kind="stable")
    order = by_score[np.argsort(key[by_score], kind="stable")]
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    ranks = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    out = np.empty(len(order), dtype=np.int64)
    out[order] = ranks
    return out


def split_by_key(key: IntArray) -> list[IntArray]:
    """Indices of ``key`` grouped by value (groups in ascending key order)."""
    if len(key) == 0:
        return []
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    return np.split(order, bounds)


def near_pairs(
    dt_key: IntArray, gt_key: IntArray, n_keys: int, dt_xy: FloatArray, gt_xy: FloatArray, reach: float,
    *, ordered: bool = True,
) -> tuple[IntArray, IntArray]:
    """The ``(i, j)`` of :func:`same_key_pairs` whose points may lie within ``reach`` of each other:
    a superset, from a grid of cells ``reach`` wide (same or neighbouring cell), grouped as there
    (``ordered``; else in no particular order, for a caller that filters them first).

    For geometry kinds placed on the ground (cuboids), pairs farther apart than their sizes allow
    cannot overlap; this keeps the candidates linear in the objects instead of quadratic per frame.
    """
    dt_ids, gt_ids = np.flatnonzero(dt_key >= 0), np.flatnonzero(gt_key >= 0)
    if len(dt_ids) == 0 or len(gt_ids) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cells = _Grid.of(_rows(dt_xy, dt_ids), _rows(gt_xy, gt_ids), reach if reach > 0 else 1.0)
    if n_keys * cells.width * cells.width >= 2**62:  # cells too many to number: every same-key pair
        return same_key_pairs(dt_key, gt_key, n_keys)
    g_code = cells.code(gt_key[gt_ids], cells.g_col, cells.g_row)
    order = np.argsort(g_code, kind="stable")
    gt_sorted, sorted_code = gt_ids[order], g_code[order]
    starts = _cell_starts(g_code, n_keys * cells.width * cells.width, len(dt_ids))
    dps, gps = [], []
    for ox in (-1, 0, 1):  # the three cells of a column of neighbours are consecutive codes
        below = cells.code(dt_key[dt_ids], cells.d_col + ox, cells.d_row - 1)
        if starts is None:
            start = np.searchsorted(sorted_code, below, "left")
            counts = np.searchsorted(sorted_code, below + 2, "right") - start
        else:
            start = starts[below]
            counts = starts[below + 3] - start
        total = int(counts.sum())
        first = np.cumsum(counts) - counts
        dps.append(np.repeat(dt_ids, counts))
        gps.append(gt_sorted[np.repeat(start - first, counts) + np.arange(total)])
    dp, gp = np.concatenate(dps).astype(np.int64, copy=False), np.concatenate(gps).astype(np.int64, copy=False)
    if not ordered:
        return dp, gp
    by_pair = np.lexsort((gp, dp))
    return dp[by_pair], gp[by_pair]


def _rows(xy: FloatArray, ids: IntArray) -> FloatArray:
    return xy if len(ids) == len(xy) else xy[ids]


class _Grid(NamedTuple):
    """Each point's cell (column, row) in a grid of square cells, numbered from 1 so that every
    neighbour of a cell, 0 .. width - 1, has a number too."""

    width: int
    d_col: IntArray
    d_row: IntArray
    g_col: IntArray
    g_row: IntArray

    @classmethod
    def of(cls, d_xy: FloatArray, g_xy: FloatArray, cell: float) -> _Grid:
        dx, dy, gx, gy = (np.ascontiguousarray(a[:, i]) for a in (d_xy, g_xy) for i in (0, 1))
        low_x, low_y = min(dx.min(), gx.min()), min(dy.min(), gy.min())
        d_col, g_col = (np.floor((v - low_x) / cell).astype(np.int64) + 1 for v in (dx, gx))
        d_row, g_row = (np.floor((v - low_y) / cell).astype(np.int64) + 1 for v in (dy, gy))
        width = int(max(d_col.max(), g_col.max(), d_row.max(), g_row.max())) + 3  # cells and neighbours: 0 .. max + 2
        return cls(width, d_col, d_row, g_col, g_row)

    def code(self, key: IntArray, col: IntArray, row: IntArray) -> IntArray:
        out: IntArray = (key * self.width + col) * self.width + row
        return out


def _cell_starts(code: IntArray, n_cells: int, n_queries: int) -> IntArray | None:
    """Where each cell's points begin in code order (``n_cells + 1`` entries), when the cells are
    few enough to count (about the points' number); None: search the sorted codes instead."""
    if n_cells > 8 * (len(code) + n_queries) + (1 << 20):
        return None
    starts = np.zeros(n_cells + 1, dtype=np.int64)
    np.cumsum(np.bincount(code, minlength=n_cells), out=starts[1:])
    return starts


def candidate_pairs(
    geometry: Any, dt: Objects, gt: Objects, dt_key: IntArray, gt_key: IntArray, n_keys: int,
    reach: float | None = None, *, ordered: bool = True,
) -> tuple[IntArray, IntArray]:
    """The same-key pairs that can overlap (or lie within ``reach``, when given): :func:`near_pairs`
    for a kind with a ``footprint`` (centres and circumscribed radii), else every same-key pair."""
    footprint = getattr(geometry, "footprint", None)
    if footprint is None:
        return same_key_pairs(dt_key, gt_key, n_keys)
    dt_xy, dt_r = footprint(dt)
    gt_xy, gt_r = footprint(gt)
    if reach is None:
        reach = float((dt_r.max() if len(dt_r) else 0.0) + (gt_r.max() if len(gt_r) else 0.0))
    return near_pairs(dt_key, gt_key, n_keys, dt_xy, gt_xy, reach, ordered=ordered)


def pairs_at_least(
    geometry: Any, dt: Objects, gt: Objects, dt_key: IntArray, gt_key: IntArray, n_keys: int, threshold: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """The same-key pairs with IoU >= ``threshold`` (> 0), grouped as :func:`same_key_pairs` groups
    them, and their IoU. A kind that finds them itself (``pairs_at_least``: cuboids, which skip pairs
    that cannot reach the threshold) is given :func:`near_pairs` to do it with."""
    search = getattr(geometry, "pairs_at_least", None)
    if search is None:
        dp, gp = candidate_pairs(geometry, dt, gt, dt_key, gt_key, n_keys)
        iou = geometry.pair_iou(dt, gt, dp, gp)
        kept = np.flatnonzero(iou >= threshold)
        return dp[kept], gp[kept], iou[kept]
    dp, gp, iou = search(dt, gt, dt_key, gt_key, n_keys, threshold, near_pairs)
    by_pair = np.lexsort((gp, dp))
    return dp[by_pair], gp[by_pair], iou[by_pair]
