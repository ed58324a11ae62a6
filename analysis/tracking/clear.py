"""CLEAR-MOT (MOTA, MOTP, ID switches, fragmentations) exactly as py-motmetrics 1.4.0's ``MOTAccumulator`` counts.

Frame by frame: a gt track keeps the hypothesis it was last matched to while their distance is within the
threshold (gt tracks in id order claim first when two last matched the same hypothesis); the remaining
detections are matched by minimum total distance (motmetrics' scipy assignment, impossible pairs replaced by
its large constant). A match to a hypothesis other than the gt track's previous one is an ID switch, however
long ago that was (motmetrics' default ``max_switch_time``). Unmatched gt detections are misses, unmatched
hypotheses false positives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from analysis.tracking.columns import BoolArray, FloatArray, IntArray
from analysis.tracking.pairs import ClipPairs, Side


@dataclass(frozen=True)
class FrameMatches:
    """What the CLEAR matching decided, per canonical gt row."""

    tracked: BoolArray  # matched (MATCH or SWITCH) in its frame
    switched: BoolArray  # matched to a hypothesis other than its track's previous one
    distance: FloatArray  # 1 - IoU of the match, NaN when missed
    hyp_row: IntArray  # canonical hypothesis row of the match, -1 when missed


def match_frames(pairs: ClipPairs, dist: FloatArray) -> FrameMatches:
    """Run motmetrics' accumulator over every frame; ``dist`` is 1 - IoU per pair, NaN where it cannot match."""
    gt, hyp = pairs.gt, pairs.hyp
    previous = np.full(gt.num_tracks, -1, np.int64)  # motmetrics' ``m``: hyp track last matched, -1 if none
    column = np.full(hyp.num_tracks, -1, np.int64)  # hyp track -> its column in the current frame
    out = FrameMatches(np.zeros(len(gt), bool), np.zeros(len(gt), bool), np.full(len(gt), np.nan),
                       np.full(len(gt), -1, np.int64))
    for f in range(pairs.num_frames):
        ng, nh = gt.count(f), hyp.count(f)
        if ng and nh:
            d = dist[pairs.start[f]:pairs.start[f + 1]].reshape(ng, nh)
            g, h = gt.ids[gt.start[f]:gt.start[f + 1]], hyp.ids[hyp.start[f]:hyp.start[f + 1]]
            column[h] = np.arange(nh)
            _match_frame(d, g, h, previous, column, out, (int(gt.start[f]), int(hyp.start[f])))
            column[h] = -1
    return out


def _match_frame(d: FloatArray, g: IntArray, h: IntArray, previous: IntArray, column: IntArray,
                 out: FrameMatches, first: tuple[int, int]) -> None:
    kept_rows, kept_cols = _keep_previous(d, previous[g], column)
    rest = d.copy()
    rest[kept_rows, :] = np.nan
    rest[:, kept_cols] = np.nan
    rows, cols = _assign(rest)
    switched = (previous[g[rows]] >= 0) & (previous[g[rows]] != h[cols])
    previous[g[rows]] = h[cols]
    all_rows, all_cols = np.concatenate((kept_rows, rows)), np.concatenate((kept_cols, cols))
    first_row = first[0]
    out.tracked[first_row + all_rows] = True
    out.hyp_row[first_row + all_rows] = first[1] + all_cols
    out.distance[first_row + all_rows] = d[all_rows, all_cols]
    out.switched[first_row + rows] = switched


def _keep_previous(d: FloatArray, prev: IntArray, column: IntArray) -> tuple[IntArray, IntArray]:
    """Step 1 of motmetrics' update: gt rows, in order, take their previous hypothesis if present and in reach."""
    cols = np.where(prev >= 0, column[prev], -1)
    rows = np.flatnonzero(cols >= 0)
    rows = rows[np.isfinite(d[rows, cols[rows]])]
    cols = cols[rows]
    if len(set(cols.tolist())) < len(cols):  # two gt tracks last matched this hypothesis: the first row wins
        cols, first = np.unique(cols, return_index=True)
        rows = rows[first]
    return rows, cols


def _assign(costs: FloatArray) -> tuple[IntArray, IntArray]:
    """motmetrics' ``lsa_solve_scipy``: NaN edges become a constant no optimum would choose, then are dropped."""
    valid = np.isfinite(costs)
    if not valid.any():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if not valid.all():
        large = 2 * min(costs.shape) * (np.abs(costs[valid]).max() + 1) + 1
        costs = np.where(valid, costs, large)
    rows, cols = linear_sum_assignment(costs)
    keep = valid[rows, cols]
    return rows[keep].astype(np.int64), cols[keep].astype(np.int64)


def fragmentations(gt: Side, tracked: BoolArray) -> int:
    """Times a gt track goes from tracked to missed and is tracked again later (motmetrics' count)."""
    order = np.argsort(gt.ids, kind="stable")  # rows are frame-ordered, so each track's stay in frame order
    ids, on = gt.ids[order], tracked[order]
    same = ids[1:] == ids[:-1]
    drops = int(np.count_nonzero(same & on[:-1] & ~on[1:]))
    last = np.append(~same, True) if len(ids) else np.zeros(0, bool)
    ever = np.bincount(gt.ids, weights=tracked, minlength=gt.num_tracks) > 0
    ends_missed = last & ~on & ever[ids]
    return drops - int(np.count_nonzero(ends_missed))


def track_coverage(gt: Side, tracked: BoolArray) -> tuple[int, int, int]:
    """Mostly tracked (>= 80 % of its detections matched), partially tracked, mostly lost (< 20 %) gt tracks."""
    seen = np.bincount(gt.ids, minlength=gt.num_tracks)
    hit = np.bincount(gt.ids, weights=tracked, minlength=gt.num_tracks)
    ratio = hit[seen > 0] / seen[seen > 0]
    mostly = int(np.count_nonzero(ratio >= 0.8))
    lost = int(np.count_nonzero(ratio < 0.2))
    return mostly, len(ratio) - mostly - lost, lost
