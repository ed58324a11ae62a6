"""Segmentation masks (COCO RLE)."""

from __future__ import annotations

import numpy as np

from analysis.annotations import rle
from analysis.annotations.model import FloatArray, IntArray, Objects, Rle
from analysis.exceptions import InvalidInput


class MaskGeometry:
    """Mask IoU per pair; objects without a mask are an input error for this kind."""

    kind = "mask"

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
