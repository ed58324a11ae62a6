"""Candidate pairs across many frames at once: every (automation, manual) pair that
shares a group key (a frame, or a frame and class), generated without Python loops."""

from __future__ import annotations

from typing import Any

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
) -> tuple[IntArray, IntArray]:
    """The ``(i, j)`` of :func:`same_key_pairs` whose points may lie within ``reach`` of each other:
    a superset, from a grid of cells ``reach`` wide (same or neighbouring cell), grouped as there.

    For geometry kinds placed on the ground (cuboids), pairs farther apart than their sizes allow
    cannot overlap; this keeps the candidates linear in the objects instead of quadratic per frame.
    """
    dt_ids, gt_ids = np.flatnonzero(dt_key >= 0), np.flatnonzero(gt_key >= 0)
    if len(dt_ids) == 0 or len(gt_ids) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cell = reach if reach > 0 else 1.0
    low = np.minimum(dt_xy[dt_ids].min(axis=0), gt_xy[gt_ids].min(axis=0))
    d_cell = np.floor((dt_xy[dt_ids] - low) / cell).astype(np.int64) + 1
    g_cell = np.floor((gt_xy[gt_ids] - low) / cell).astype(np.int64) + 1
    width = int(max(d_cell.max(), g_cell.max())) + 3  # cells and their neighbours: 0 .. max + 2
    if n_keys * width * width >= 2**62:  # cells too many to number: every same-key pair
        return same_key_pairs(dt_key, gt_key, n_keys)
    g_code = (gt_key[gt_ids] * width + g_cell[:, 0]) * width + g_cell[:, 1]
    order = np.argsort(g_code, kind="stable")
    sorted_code = g_code[order]
    dps, gps = [], []
    for ox in (-1, 0, 1):  # the three cells of a column of neighbours are consecutive codes
        below = (dt_key[dt_ids] * width + d_cell[:, 0] + ox) * width + d_cell[:, 1] - 1
        start = np.searchsorted(sorted_code, below, "left")
        counts = np.searchsorted(sorted_code, below + 2, "right") - start
        total = int(counts.sum())
        first = np.cumsum(counts) - counts
        dps.append(np.repeat(dt_ids, counts))
        gps.append(gt_ids[order[np.repeat(start - first, counts) + np.arange(total)]])
    dp, gp = np.concatenate(dps), np.concatenate(gps)
    by_pair = np.lexsort((gp, dp))
    return dp[by_pair].astype(np.int64), gp[by_pair].astype(np.int64)


def candidate_pairs(
    geometry: Any, dt: Objects, gt: Objects, dt_key: IntArray, gt_key: IntArray, n_keys: int,
    reach: float | None = None,
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
    return near_pairs(dt_key, gt_key, n_keys, dt_xy, gt_xy, reach)
