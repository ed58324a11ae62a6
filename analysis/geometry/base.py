"""The contract a geometry kind (2D box, mask, later 3D cuboid) fulfils for matching."""

from __future__ import annotations

from typing import Protocol

from analysis.annotations.model import FloatArray, IntArray, Objects


class Geometry(Protocol):
    """Overlap between objects of one geometry kind, evaluated on index pairs."""

    kind: str

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        """IoU of each ``(dt[dt_idx[k]], gt[gt_idx[k]])``; for a crowd ground-truth
        region the intersection is divided by the detection's area instead."""
        ...
