"""Training targets of the BEV detector: Gaussian centre heatmaps per class and, at each centre, the regression.

As CenterPoint: a cuboid's centre is a Gaussian peak on its class's heatmap, its radius the
CenterNet radius of the footprint (in output cells) at overlap 0.1, at least :data:`MIN_RADIUS`;
the regression at the centre's cell is what :mod:`services.engine.decode_bev` reads back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.engine.spec import GridSpec
from services.engine.training.centernet_targets import draw_gaussian, gaussian_radius

MIN_RADIUS = 1
MIN_OVERLAP = 0.1


@dataclass(frozen=True, eq=False)
class BevTargets:
    heat: np.ndarray  # [N, K, h, w] float16
    index: np.ndarray  # [N, M] flat centre cell (row * w + col)
    regression: np.ndarray  # [N, M, 8] as REGRESSION
    mask: np.ndarray  # [N, M] 1 where a centre exists


def regression_of(box: np.ndarray, row: int, col: int, fx: float, fy: float) -> list[float]:
    """The eight regression values of cuboid ``box`` (x, y, z, l, w, h, yaw) whose centre is at cell
    coordinates (fx, fy) in cell (row, col)."""
    return [fx - row, fy - col, box[2], *np.log(np.maximum(box[3:6], 1e-3)), np.sin(box[6]), np.cos(box[6])]


def bev_targets(boxes: list[np.ndarray], labels: list[np.ndarray], *, classes: int, grid: GridSpec, stride: int,
                max_objects: int = 64) -> BevTargets:
    """Targets of frames whose cuboids are ``boxes`` [M, 7] with dense class ``labels`` [M]; centres off the grid
    are left out."""
    n, h, w, size = len(boxes), grid.rows // stride, grid.cols // stride, grid.cell * stride
    heat = np.zeros((n, classes, h, w), dtype=np.float32)
    index = np.zeros((n, max_objects), dtype=np.int64)
    regression = np.zeros((n, max_objects, 8), dtype=np.float32)
    mask = np.zeros((n, max_objects), dtype=np.float32)
    for f, (bx, lb) in enumerate(zip(boxes, labels, strict=True)):
        k = 0
        for box, cls in zip(bx, lb, strict=True):
            fx, fy = (box[0] - grid.x_min) / size, (box[1] - grid.y_min) / size
            row, col = int(np.floor(fx)), int(np.floor(fy))
            if not (0 <= row < h and 0 <= col < w) or k == max_objects:
                continue
            radius = max(MIN_RADIUS, int(gaussian_radius(box[3] / size, box[4] / size, MIN_OVERLAP)))
            draw_gaussian(heat[f, cls], col, row, radius)
            index[f, k] = row * w + col
            regression[f, k] = regression_of(box, row, col, fx, fy)
            mask[f, k] = 1.0
            k += 1
    return BevTargets(heat.astype(np.float16), index, regression, mask)
