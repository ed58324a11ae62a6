"""Axis-aligned 2D boxes (COCO ``[x, y, width, height]``)."""

from __future__ import annotations

import numpy as np

from analysis.annotations.model import FloatArray, IntArray, Objects


class BoxGeometry:
    """Box IoU computed exactly as pycocotools' ``bbIou`` does, vectorised over pairs."""

    kind = "box"

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        d = dt.boxes[dt_idx]
        g = gt.boxes[gt_idx]
        return box_iou(d, g, gt.crowd[gt_idx])


def box_iou(d: FloatArray, g: FloatArray, crowd: np.ndarray) -> FloatArray:
    """Row-wise IoU of two (K, 4) xywh arrays; same operation order as pycocotools'
    C code, so results are bit-identical."""
    dx, dy, dw, dh = d[:, 0], d[:, 1], d[:, 2], d[:, 3]
    gx, gy, gw, gh = g[:, 0], g[:, 1], g[:, 2], g[:, 3]
    w = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    h = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    overlap = (w > 0) & (h > 0)
    inter = np.where(overlap, w * h, 0.0)
    da = dw * dh
    union = np.where(crowd, da, (da + gw * gh) - inter)
    out = np.zeros(len(d), dtype=np.float64)
    np.divide(inter, union, out=out, where=overlap)
    return out
