"""``mask``: segmentation masks as COCO RLE.

Wire form ``{"type": "mask", "size": [height, width], "counts": [...] or "compressed"}``;
column block a list of :class:`Rle` (None for an object read without a mask).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analysis.annotations import rle
from analysis.annotations.model import FloatArray, IntArray, Objects, Rle
from analysis.exceptions import InvalidInput
from analysis.geometry.registry import register


@register
class MaskGeometry:
    """Mask IoU per pair; objects without a mask are an input error for this kind."""

    kind = "mask"
    aliases: tuple[str, ...] = ()

    def read(self, doc: Mapping[str, Any], source: str, where: str) -> Rle:
        return rle.parse_rle(doc, source, where, (0, 0))

    def write(self, value: Rle) -> dict[str, Any]:
        return {"type": self.kind, "size": [value.height, value.width], "counts": rle.encode_counts(value.counts)}

    def column(self, values: Sequence[Rle | None]) -> list[Rle | None]:
        return list(values)

    def area(self, column: Sequence[Rle | None]) -> FloatArray:
        return np.array([np.nan if m is None else rle.area(m) for m in column], dtype=np.float64)

    def extent(self, column: Sequence[Rle | None]) -> FloatArray:
        return np.array([np.nan if m is None else rle.bbox(m)[3] for m in column], dtype=np.float64)

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        dm, gm = _masks(dt, "automation"), _masks(gt, "manual")
        out = np.zeros(len(dt_idx), dtype=np.float64)
        for k, (i, j) in enumerate(zip(dt_idx.tolist(), gt_idx.tolist(), strict=True)):
            a, b = dm[i], gm[j]
            if a is None or b is None:
                side, idx = ("automation", i) if a is None else ("manual", j)
                raise InvalidInput(side, f"object {idx}", "has no segmentation mask for mask IoU")
            out[k] = rle.iou(a, b, bool(gt.crowd[j]))
        return out


def _masks(objects: Objects, side: str) -> list[Rle | None]:
    if objects.masks is None:
        raise InvalidInput(side, "", "has no segmentation masks; mask IoU needs COCO RLE masks")
    return list(objects.masks)
