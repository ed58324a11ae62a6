"""``box2d``: axis-aligned 2D boxes, COCO ``[x, y, width, height]`` in pixels.

Wire form ``{"type": "box2d", "xywh": [x, y, width, height]}``; column block an
``(N, 4)`` float array. Also answers to ``box`` (the matcher's older name).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import BoolArray, FloatArray, IntArray, Objects
from analysis.geometry.registry import register

Columns = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]
Box = tuple[float, float, float, float]
_NUMBERS = (int, float)  # not bool: checks.box refuses booleans


@register
class BoxGeometry:
    """Box IoU computed exactly as pycocotools' ``bbIou`` does, vectorised over pairs."""

    kind = "box2d"
    aliases: tuple[str, ...] = ("box",)

    def read(self, doc: Mapping[str, Any], source: str, where: str) -> Box:
        xywh = doc.get("xywh")
        if type(xywh) is list and len(xywh) == 4:
            x, y, w, h = xywh
            if (type(x) in _NUMBERS and type(y) in _NUMBERS and type(w) in _NUMBERS and type(h) in _NUMBERS
                    and w >= 0 and h >= 0):
                try:  # not contextlib.suppress: this path is hot, and a try costs nothing until it raises
                    if math.isfinite(x + y + w + h):
                        return float(x), float(y), float(w), float(h)
                except OverflowError:  # an int no float holds: the exact checks below name it
                    pass
        return checks.box(checks.field(doc, "xywh", source, where), source, f"{where}.xywh")

    def write(self, value: Sequence[float]) -> dict[str, Any]:
        return {"type": self.kind, "xywh": [float(v) for v in value]}

    def column(self, values: Sequence[Sequence[float]]) -> FloatArray:
        return np.array(values, dtype=np.float64).reshape(len(values), 4)

    def area(self, column: FloatArray) -> FloatArray:
        return column[:, 2] * column[:, 3]

    def extent(self, column: FloatArray) -> FloatArray:
        return column[:, 3]

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        d = tuple(c.take(dt_idx) for c in _columns(dt.boxes))
        g = tuple(c.take(gt_idx) for c in _columns(gt.boxes))
        return _iou(d, g, gt.crowd.take(gt_idx))  # type: ignore[arg-type]


def box_iou(d: FloatArray, g: FloatArray, crowd: BoolArray) -> FloatArray:
    """Row-wise IoU of two (K, 4) xywh arrays; for crowd rows, intersection over ``d``'s area."""
    return _iou(_columns(d), _columns(g), crowd)


def _columns(boxes: FloatArray) -> Columns:
    """x, y, x + w, y + h and w * h: the terms of pycocotools' C code, computed per box."""
    x, y, w, h = (np.ascontiguousarray(boxes[:, i]) for i in range(4))
    return x, y, w + x, h + y, w * h


def _iou(d: Columns, g: Columns, crowd: BoolArray) -> FloatArray:
    """Same operations in the same order as pycocotools' ``bbIou``, so results are bit-identical."""
    dx, dy, dx2, dy2, da = d
    gx, gy, gx2, gy2, ga = g
    w = np.minimum(dx2, gx2)
    w -= np.maximum(dx, gx)
    h = np.minimum(dy2, gy2)
    h -= np.maximum(dy, gy)
    overlap = (w > 0) & (h > 0)
    inter = w * h
    union = np.where(crowd, da, (da + ga) - inter)
    out = np.zeros(len(dx), dtype=np.float64)
    np.divide(inter, union, out=out, where=overlap)
    return out
