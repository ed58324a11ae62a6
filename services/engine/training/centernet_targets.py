"""CenterNet training targets: Gaussian centre heatmaps, log sizes and centre offsets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Targets:
    """Per frame: heatmap [K, h, w]; up to ``max_objects`` centres with size and offset."""

    heat: np.ndarray  # [N, K, h, w] float16
    index: np.ndarray  # [N, M] flat centre cell (y * w + x)
    size: np.ndarray  # [N, M, 2] log(width), log(height) in input pixels
    offset: np.ndarray  # [N, M, 2] sub-cell centre offset
    mask: np.ndarray  # [N, M] 1 where a centre exists


def gaussian_radius(height: float, width: float, min_overlap: float = 0.7) -> float:
    """CenterNet's radius within which a shifted box keeps IoU >= ``min_overlap``."""
    a1, b1 = 1.0, height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + np.sqrt(b1**2 - 4 * a1 * c1)) / 2
    a2, b2 = 4.0, 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + np.sqrt(b2**2 - 4 * a2 * c2)) / 2
    a3, b3 = 4 * min_overlap, -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + np.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return float(min(r1, r2, r3))


def draw_gaussian(heat: np.ndarray, cx: int, cy: int, radius: int) -> None:
    """Paint a Gaussian peak of 1 at (cx, cy), keeping the maximum where peaks overlap."""
    sigma = (2 * radius + 1) / 6
    h, w = heat.shape
    x0, x1 = max(0, cx - radius), min(w, cx + radius + 1)
    y0, y1 = max(0, cy - radius), min(h, cy + radius + 1)
    ys, xs = np.ogrid[y0 - cy : y1 - cy, x0 - cx : x1 - cx]
    peak = np.exp(-(xs * xs + ys * ys) / (2 * sigma * sigma))
    np.maximum(heat[y0:y1, x0:x1], peak, out=heat[y0:y1, x0:x1])


def build_targets(
    boxes: list[np.ndarray], labels: list[np.ndarray], *, classes: int, height: int, width: int,
    stride: int = 4, max_objects: int = 64,
) -> Targets:
    """Targets for frames of ``height`` x ``width`` pixels; boxes are xywh in pixels."""
    n, h, w = len(boxes), height // stride, width // stride
    heat = np.zeros((n, classes, h, w), dtype=np.float32)
    index = np.zeros((n, max_objects), dtype=np.int64)
    size = np.zeros((n, max_objects, 2), dtype=np.float32)
    offset = np.zeros((n, max_objects, 2), dtype=np.float32)
    mask = np.zeros((n, max_objects), dtype=np.float32)
    for f, (bx, lb) in enumerate(zip(boxes, labels, strict=True)):
        for k, (box, cls) in enumerate(zip(bx[:max_objects], lb[:max_objects], strict=True)):
            cx, cy = (box[0] + box[2] / 2) / stride, (box[1] + box[3] / 2) / stride
            ix, iy = min(int(cx), w - 1), min(int(cy), h - 1)
            radius = max(0, int(gaussian_radius(box[3] / stride, box[2] / stride)))
            draw_gaussian(heat[f, cls], ix, iy, radius)
            index[f, k] = iy * w + ix
            size[f, k] = np.log(np.maximum(box[2:4], 1.0))
            offset[f, k] = (cx - ix, cy - iy)
            mask[f, k] = 1.0
    return Targets(heat.astype(np.float16), index, size, offset, mask)
