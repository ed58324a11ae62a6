"""Recall by object size: how many manual objects of each area bucket the automation finds.

Small objects are where detectors fail first, so the engine's report breaks
recall down by COCO's size buckets. Each bucket runs the pycocotools-exact
matcher with that bucket as its area range, exactly as pycocotools evaluates
``areaRng``: objects outside the bucket are ignored, so a detection matching
one is neither a hit nor a false positive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from analysis.annotations.model import Annotations, IntArray
from analysis.detection.accumulate import mean_defined
from analysis.detection.contract import check_same_frames, checked_area_range, checked_max_dets, reported_as
from analysis.exceptions import InvalidInput
from analysis.matching import MatchOptions, match

# pycocotools' areaRng (px², both ends inclusive: an object of exactly 32² is in both small and medium).
COCO_AREA_BUCKETS: Mapping[str, tuple[float, float]] = MappingProxyType({
    "small": (0.0, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e5**2),
})


@dataclass(frozen=True)
class BucketRecall:
    """Recall of the manual objects in one area bucket.

    ``recall`` pools all classes (``matched / n_manual``); ``class_mean``
    averages the per-class recalls over classes with objects in the bucket,
    which is pycocotools' AR at a single IoU threshold. NaN when undefined.
    """

    area_range: tuple[float, float]
    n_manual: int  # non-crowd manual objects with area in the range
    matched: int  # of those, found by a detection at the IoU threshold
    recall: float
    class_mean: float
    per_class: Mapping[str, float]


@dataclass(frozen=True)
class SizeRecall:
    """Recall per area bucket at one IoU threshold, with ``max_dets`` detections per image and class."""

    iou_threshold: float
    max_dets: int
    buckets: Mapping[str, BucketRecall]


def recall_by_size(
    automation: Annotations, manual: Annotations, *, iou_threshold: float = 0.5, max_dets: int = 100,
    buckets: Mapping[str, tuple[float, float]] = COCO_AREA_BUCKETS,
) -> SizeRecall:
    """Recall per object-size bucket (COCO's small/medium/large by default, or the given ranges)."""
    if not buckets:
        raise InvalidInput("options", "buckets", "at least one area bucket is needed")
    ranges = {name: checked_area_range(rng, f"buckets.{name}") for name, rng in buckets.items()}
    check_same_frames(automation, manual)
    max_dets = checked_max_dets(max_dets)
    with reported_as(f"recall by size of {automation.source or 'automation'} against {manual.source or 'manual'}"):
        out = {
            name: _bucket_recall(automation, manual, MatchOptions(
                method="coco", iou_threshold=iou_threshold, max_dets=max_dets, area_range=rng,
            ))
            for name, rng in ranges.items()
        }
        return SizeRecall(iou_threshold, max_dets, MappingProxyType(out))


def _bucket_recall(automation: Annotations, manual: Annotations, options: MatchOptions) -> BucketRecall:
    k = len(manual.categories)
    n_manual, matched = _class_counts(automation, manual, options)
    per_class = np.where(n_manual > 0, matched / np.maximum(n_manual, 1), np.nan)
    total, hits = int(n_manual.sum()), int(matched.sum())
    return BucketRecall(
        area_range=options.area_range, n_manual=total, matched=hits,
        recall=hits / total if total else math.nan,
        class_mean=mean_defined(per_class[np.argsort(manual.categories.ids, kind="stable")]),
        per_class=MappingProxyType({manual.categories.name_of(i): float(per_class[i]) for i in range(k)}),
    )


def _class_counts(automation: Annotations, manual: Annotations, options: MatchOptions) -> tuple[IntArray, IntArray]:
    """Per class: manual objects that count (not crowd, area in range), and how many of them were found."""
    k = len(manual.categories)
    if len(manual.objects) == 0:  # nothing to find; the coco matcher fails on an empty manual side
        return np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
    matches = match(automation, manual, options)
    category = manual.objects.category
    counted = np.bincount(category[~matches.gt_ignored], minlength=k)
    found = np.bincount(category[matches.gt], minlength=k)  # true positives are non-ignored objects
    return counted.astype(np.int64), found.astype(np.int64)
