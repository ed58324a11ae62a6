"""``polygon``: a region outlined by one or more polygon parts, in pixels.

Wire form ``{"type": "polygon", "parts": [[x1, y1, x2, y2, ...], ...]}`` (COCO's
polygon layout, at least three points a part); column block a list of parts.
The region is the union of its parts. Area and IoU are counted on the unit
pixel grid (a pixel belongs to a region when its centre does), so a polygon
and a mask of the same pixels compare alike. COCO files' polygons are
rasterised to ``mask`` by the readers instead, with pycocotools' own pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import BoolArray, FloatArray, IntArray, Objects
from analysis.exceptions import InvalidInput
from analysis.geometry.registry import register

Parts = tuple[tuple[float, ...], ...]


@register
class PolygonGeometry:
    """Polygon IoU over the pixels whose centres the parts cover."""

    kind = "polygon"
    aliases: tuple[str, ...] = ()

    def read(self, doc: Mapping[str, Any], source: str, where: str) -> Parts:
        parts = checks.as_list(checks.field(doc, "parts", source, where), source, f"{where}.parts")
        if not parts:
            raise InvalidInput(source, f"{where}.parts", "a polygon needs at least one part")
        return tuple(_part(p, source, f"{where}.parts[{i}]") for i, p in enumerate(parts))

    def write(self, value: Parts) -> dict[str, Any]:
        return {"type": self.kind, "parts": [list(p) for p in value]}

    def column(self, values: Sequence[Parts]) -> list[Parts]:
        return list(values)

    def area(self, column: Sequence[Parts]) -> FloatArray:
        return np.array([float(_pixels(p, _frame(p)).sum()) for p in column], dtype=np.float64)

    def extent(self, column: Sequence[Parts]) -> FloatArray:
        return np.array([_span(p, 1) for p in column], dtype=np.float64)

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        d, g = dt.geometry[self.kind], gt.geometry[self.kind]
        out = np.zeros(len(dt_idx), dtype=np.float64)
        for k, (i, j) in enumerate(zip(dt_idx.tolist(), gt_idx.tolist(), strict=True)):
            out[k] = _iou(d[i], g[j], bool(gt.crowd[j]))
        return out


def _part(value: Any, source: str, where: str) -> tuple[float, ...]:
    items = checks.as_list(value, source, where)
    if len(items) % 2 or len(items) < 6:
        raise InvalidInput(source, where, f"a polygon part needs an even count of at least 6 numbers (3 points), "
                           f"got {len(items)}")
    return tuple(checks.number(v, source, f"{where}[{i}]") for i, v in enumerate(items))


def _span(parts: Parts, axis: int) -> float:
    values = [v for p in parts for v in p[axis::2]]
    return max(values) - min(values)


Window = tuple[int, int, int, int]  # x0, y0, width, height of the pixel grid considered


def _frame(*regions: Parts) -> Window:
    xs = [v for parts in regions for p in parts for v in p[0::2]]
    ys = [v for parts in regions for p in parts for v in p[1::2]]
    x0, y0 = int(np.floor(min(xs))), int(np.floor(min(ys)))
    return x0, y0, int(np.ceil(max(xs))) - x0 + 1, int(np.ceil(max(ys))) - y0 + 1


def _pixels(parts: Parts, window: Window) -> BoolArray:
    """Which pixels of ``window`` have their centre inside the union of ``parts`` (even-odd per part)."""
    x0, y0, w, h = window
    cx, cy = np.meshgrid(np.arange(w) + x0 + 0.5, np.arange(h) + y0 + 0.5)
    out = np.zeros((h, w), dtype=bool)
    for part in parts:
        px, py = np.array(part[0::2]), np.array(part[1::2])
        inside = np.zeros((h, w), dtype=bool)
        for (ax, ay), (bx, by) in zip(zip(px, py, strict=True), zip(np.roll(px, 1), np.roll(py, 1), strict=True),
                                      strict=True):
            crosses = (ay > cy) != (by > cy)
            with np.errstate(divide="ignore", invalid="ignore"):
                at = (bx - ax) * (cy - ay) / (by - ay) + ax
            inside ^= crosses & (cx < at)
        out |= inside
    return out


def _iou(d: Parts, g: Parts, crowd: bool) -> float:
    window = _frame(d, g)
    a, b = _pixels(d, window), _pixels(g, window)
    inter = float(np.count_nonzero(a & b))
    union = float(np.count_nonzero(a)) if crowd else float(np.count_nonzero(a | b))
    return inter / union if union > 0 else 0.0
