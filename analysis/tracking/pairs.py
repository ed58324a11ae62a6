"""Both sides of a clip in canonical order, and every (gt, hyp) pair of detections that share a frame.

Rows are sorted by (frame, track id) and track ids replaced by dense indices in id order, so the metrics do not
depend on the order of the input rows, nor on the ids themselves beyond their order. The pairs are laid out frame
by frame, gt-major within a frame, so ``values[start[f]:start[f + 1]].reshape(ng, nh)`` is frame ``f``'s matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.tracking.columns import FloatArray, IntArray
from analysis.tracking.model import Tracks


@dataclass(frozen=True)
class Side:
    """One side in canonical order."""

    ids: IntArray  # dense track index of each row, 0..num_tracks-1 in track-id order
    num_tracks: int
    boxes: FloatArray
    start: IntArray  # row offsets per frame, length num_frames + 1

    def __len__(self) -> int:
        return len(self.ids)

    def count(self, f: int) -> int:
        return int(self.start[f + 1] - self.start[f])


@dataclass(frozen=True)
class ClipPairs:
    """Every gt/hyp row pair within a frame: ``gt_row``/``hyp_row`` index the canonical rows of each side.

    ``iou`` is each pair's IoU with motmetrics' ``boxiou`` arithmetic (TrackEval's is the same operations and
    differs only for boxes of area <= machine epsilon, which ``degenerate`` marks: TrackEval scores them 0).
    """

    gt: Side
    hyp: Side
    gt_row: IntArray
    hyp_row: IntArray
    start: IntArray  # pair offsets per frame, length num_frames + 1
    iou: FloatArray
    degenerate: IntArray  # pairs whose TrackEval IoU is 0 although ``iou`` is not

    @property
    def num_frames(self) -> int:
        return len(self.start) - 1

    def motmetrics_distance(self, max_distance: float) -> FloatArray:
        """``1 - IoU``, NaN (cannot match) above ``max_distance``: motmetrics' ``iou_matrix(max_iou=...)``."""
        dist = 1.0 - self.iou
        dist[dist > max_distance] = np.nan
        return dist

    def trackeval_iou(self) -> FloatArray:
        """The similarity TrackEval's ``_calculate_box_ious`` gives 2D boxes (xywh)."""
        sim = self.iou.copy()
        sim[self.degenerate] = 0.0
        return sim


def canonical(tracks: Tracks) -> Side:
    order = np.lexsort((tracks.track_id, tracks.frame))
    ids, dense = np.unique(tracks.track_id[order], return_inverse=True)
    counts = np.bincount(tracks.frame, minlength=tracks.num_frames)
    start = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return Side(dense.astype(np.int64), len(ids), tracks.boxes[order], start)


def clip_pairs(gt: Tracks, hyp: Tracks) -> ClipPairs:
    """Both sides canonical, their in-frame pairs and IoUs; the caller has checked the clip lengths agree."""
    g, h = canonical(gt), canonical(hyp)
    width = np.diff(h.start)[np.repeat(np.arange(gt.num_frames), np.diff(g.start))]  # hyps in each gt row's frame
    gt_row = np.repeat(np.arange(len(g)), width)
    block = np.concatenate(([0], np.cumsum(width)[:-1])).astype(np.int64)
    hyp_row = np.arange(len(gt_row)) - np.repeat(block - h.start[:-1][_frames(g)], width)
    start = np.concatenate(([0], np.cumsum(np.diff(g.start) * np.diff(h.start)))).astype(np.int64)
    iou, degenerate = _iou(g.boxes, h.boxes, gt_row, hyp_row)
    return ClipPairs(g, h, gt_row, hyp_row, start, iou, degenerate)


def _frames(side: Side) -> IntArray:
    return np.repeat(np.arange(len(side.start) - 1), np.diff(side.start))


def _iou(a: FloatArray, b: FloatArray, ar: IntArray, br: IntArray) -> tuple[FloatArray, IntArray]:
    """IoU of every pair, computed in full only where the boxes intersect (the rest is exactly 0 either way)."""
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = _corners(a), _corners(b)
    iw = np.minimum(np.take(ax1, ar), np.take(bx1, br)) - np.maximum(np.take(ax0, ar), np.take(bx0, br))
    ih = np.minimum(np.take(ay1, ar), np.take(by1, br)) - np.maximum(np.take(ay0, ar), np.take(by0, br))
    hit = np.flatnonzero((iw > 0) & (ih > 0))
    ar, br = ar[hit], br[hit]
    inter = iw[hit] * ih[hit]
    area_a, area_b = _area(ax0, ay0, ax1, ay1)[ar], _area(bx0, by0, bx1, by1)[br]
    union = area_a + area_b - inter
    iou = np.zeros(len(iw))
    with np.errstate(divide="ignore", invalid="ignore"):
        iou[hit] = np.where(inter == 0, 0.0, inter / union)
    eps = np.finfo(np.float64).eps
    degenerate = hit[(area_a <= 0 + eps) | (area_b <= 0 + eps) | (union <= 0 + eps)]
    return iou, degenerate


def _corners(boxes: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    x0, y0 = np.ascontiguousarray(boxes[:, 0]), np.ascontiguousarray(boxes[:, 1])
    return x0, y0, x0 + boxes[:, 2], y0 + boxes[:, 3]


def _area(x0: FloatArray, y0: FloatArray, x1: FloatArray, y1: FloatArray) -> FloatArray:
    area: FloatArray = np.maximum(x1 - x0, 0) * np.maximum(y1 - y0, 0)
    return area
