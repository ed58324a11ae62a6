"""COCO polygon segmentations: checked here, turned into pixels by a rasteriser the caller passes in.

COCO stores a non-crowd object's mask as polygons, ``[[x1, y1, x2, y2, ...], ...]``
(several parts when the object is occluded). Which pixels a polygon covers is
a convention with sub-pixel rules; mask IoU agrees with COCO's own evaluation
only if the pixels are COCO's. So ``analysis/`` does not rasterise: the I/O
edge passes pycocotools' rasteriser (``services.io.polygons``), and a polygon
read without one is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import Rle
from analysis.exceptions import InvalidInput

Polygon = Sequence[float]  # x1, y1, x2, y2, ... in pixels


class Rasteriser(Protocol):
    """Polygon parts of one object into one mask of ``height`` x ``width`` (their union)."""

    def __call__(self, parts: Sequence[Polygon], height: int, width: int) -> Rle: ...


def parse_polygons(
    value: list[Any], source: str, where: str, image_size: tuple[int, int], rasterise: Rasteriser | None,
) -> Rle:
    """A COCO polygon segmentation as the mask ``rasterise`` gives it, after checking every part."""
    if rasterise is None:
        raise InvalidInput(source, where, "polygon segmentation needs a rasteriser; read the file with "
                           "shadowqa's file readers (services.io), which rasterise polygons as pycocotools does")
    h, w = image_size
    if h == 0 or w == 0:
        raise InvalidInput(source, where, "a polygon can only be rasterised on an image with a width and height")
    if not value:
        raise InvalidInput(source, where, "an empty polygon list has no pixels to compare")
    return rasterise([_part(p, source, f"{where}[{i}]") for i, p in enumerate(value)], h, w)


def _part(value: Any, source: str, where: str) -> list[float]:
    """One polygon part: an even count of finite numbers, at least three points.

    pycocotools reads a part of four numbers as a box and a flat list as
    nothing it supports, so both are refused here rather than read wrong.
    """
    if not isinstance(value, list):
        problem = f"expected a polygon [x1, y1, x2, y2, ...], got {checks.describe(value)}"
        raise InvalidInput(source, where, problem + " (a segmentation is a list of polygons)")
    if len(value) % 2 or len(value) < 6:
        raise InvalidInput(source, where, f"a polygon needs an even count of at least 6 numbers (3 points), "
                           f"got {len(value)}")
    if not {type(v) for v in value} <= {int, float} or not np.isfinite(np.array(value, dtype=np.float64)).all():
        for i, v in enumerate(value):
            checks.number(v, source, f"{where}[{i}]")
    return [float(v) for v in value]
