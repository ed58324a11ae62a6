"""Matching options and the result every matcher returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis.annotations.model import BoolArray, FloatArray, IntArray
from analysis.exceptions import InvalidInput

Method = Literal["hungarian", "coco", "centre"]
METHODS: tuple[Method, ...] = ("hungarian", "coco", "centre")


@dataclass(frozen=True)
class MatchOptions:
    """How automation objects are paired with manual ones.

    ``hungarian`` finds the largest set of one-to-one pairs with IoU >= the
    threshold (ties broken by total IoU); ``coco`` reproduces pycocotools'
    greedy score-ordered matching, including ``max_dets`` per image and
    category and the ``area_range`` outside which objects are ignored;
    ``centre`` is nuScenes' greedy rule for 3D detection: detections in
    descending score order each take the closest free manual object whose
    bird's-eye-view centre is less than ``max_distance`` away (metres; nuScenes
    uses 0.5, 1, 2 and 4), for geometry kinds with centres (``cuboid3d``).
    ``overlap`` picks the IoU of a kind that has more than one (``cuboid3d``:
    ``3d``, the default, or ``bev``, of the footprints); None: the kind's own.
    """

    method: Method = "hungarian"
    iou_threshold: float = 0.5
    class_aware: bool = True
    geometry: str = "box"
    max_dets: int = 100
    area_range: tuple[float, float] = (0.0, 1e10)
    max_distance: float = 2.0
    overlap: str | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidInput("options", "matching", f"unknown method '{self.method}' (known: {', '.join(METHODS)})")
        if not 0.0 < self.iou_threshold <= 1.0:
            raise InvalidInput("options", "iou", f"must be in (0, 1], got {self.iou_threshold}")
        if not self.max_distance > 0.0:
            raise InvalidInput("options", "max_distance", f"must be > 0, got {self.max_distance}")
        if self.max_dets < 1:
            raise InvalidInput("options", "max_dets", f"must be >= 1, got {self.max_dets}")


@dataclass(frozen=True, eq=False)
class Matches:
    """True-positive pairs plus which unmatched objects do not count against either side.

    ``dt_ignored`` marks detections that are neither true nor false positives
    (matched to an ignored region, too small, or beyond ``max_dets``);
    ``gt_ignored`` marks manual objects whose miss is not counted.
    """

    dt: IntArray
    gt: IntArray
    iou: FloatArray
    dt_ignored: BoolArray
    gt_ignored: BoolArray

    @property
    def dt_matched(self) -> BoolArray:
        out = np.zeros(len(self.dt_ignored), dtype=bool)
        out[self.dt] = True
        return out

    @property
    def gt_matched(self) -> BoolArray:
        out = np.zeros(len(self.gt_ignored), dtype=bool)
        out[self.gt] = True
        return out

    @property
    def false_positive(self) -> BoolArray:
        return ~self.dt_matched & ~self.dt_ignored

    @property
    def false_negative(self) -> BoolArray:
        return ~self.gt_matched & ~self.gt_ignored
