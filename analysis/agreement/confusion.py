"""Class confusion apart from localisation: after class-aware matching, a class-agnostic
match of the leftovers tells a wrong class at the right place from a miss or an extra."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.annotations.model import Annotations, FloatArray, IntArray
from analysis.matching import Matches, MatchOptions, close_pairs
from analysis.matching.hungarian import optimal_pairs


@dataclass(frozen=True, eq=False)
class Confusion:
    """``matrix[i, j]``: manual class ``i`` labelled ``j`` by the machine; index K is
    "nothing" (row K: machine extras, column K: machine misses)."""

    matrix: IntArray
    confused_dt: IntArray  # detections that sit on a manual object of another class
    confused_gt: IntArray


def class_confusion(
    automation: Annotations,
    manual: Annotations,
    matches: Matches,
    options: MatchOptions,
    gt_max_distance: FloatArray | None = None,
) -> Confusion:
    """Leftovers (misses and extras) paired one to one regardless of class: the most pairs close
    enough to match under ``options`` (IoU, or centre distance), then the closest."""
    dt, gt = automation.objects, manual.objects
    fp, fn = matches.false_positive, matches.false_negative
    dp, gp, closeness = close_pairs(
        automation,
        manual,
        options,
        dt_key=np.where(fp, dt.frame, -1),
        gt_key=np.where(fn, gt.frame, -1),
        n_keys=len(manual.images),
        gt_max_distance=gt_max_distance,
    )
    chosen = optimal_pairs(dp, gp, closeness, dt.frame[dp], len(dt), len(gt))
    cdt, cgt = dp[chosen], gp[chosen]
    k = len(manual.categories)
    matrix = np.zeros((k + 1, k + 1), dtype=np.int64)
    np.add.at(matrix, (gt.category[matches.gt], dt.category[matches.dt]), 1)
    np.add.at(matrix, (gt.category[cgt], dt.category[cdt]), 1)
    left_gt = fn.copy()
    left_gt[cgt] = False
    left_dt = fp.copy()
    left_dt[cdt] = False
    np.add.at(matrix, (gt.category[left_gt], np.full(int(left_gt.sum()), k)), 1)
    np.add.at(matrix, (np.full(int(left_dt.sum()), k), dt.category[left_dt]), 1)
    relabelled = dt.category[matches.dt] != gt.category[matches.gt]  # class-agnostic matching only
    return Confusion(
        matrix, np.concatenate((matches.dt[relabelled], cdt)), np.concatenate((matches.gt[relabelled], cgt))
    )
