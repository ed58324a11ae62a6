"""Candidate pairs across many frames at once: every (automation, manual) pair that
shares a group key (a frame, or a frame and class), generated without Python loops."""

from __future__ import annotations

import numpy as np

from analysis.annotations.model import FloatArray, IntArray


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
