"""The matcher entry point: pick the method, build group keys, apply size rules."""

from __future__ import annotations

import numpy as np

from analysis.annotations.model import Annotations, BoolArray
from analysis.exceptions import InvalidInput
from analysis.geometry import get_geometry
from analysis.matching.centre import centre_match
from analysis.matching.coco import CocoRules, coco_match
from analysis.matching.hungarian import hungarian_match
from analysis.matching.pairs import group_keys
from analysis.matching.types import Matches, MatchOptions


def match(
    automation: Annotations, manual: Annotations, options: MatchOptions, *,
    dt_small: BoolArray | None = None, gt_small: BoolArray | None = None,
) -> Matches:
    """Pair automation objects with manual objects of the same frame (and class).

    ``dt_small``/``gt_small`` mark objects below a quality spec's minimum size:
    they are ignored unless matched, as pycocotools treats its area range.
    """
    dt, gt = automation.objects, manual.objects
    k = len(manual.categories)
    dt_key = group_keys(dt.frame, dt.category, k, options.class_aware)
    gt_key = group_keys(gt.frame, gt.category, k, options.class_aware)
    n_keys = len(manual.images) * (k if options.class_aware else 1)
    geometry = get_geometry(options.geometry)
    dt_small = np.zeros(len(dt), dtype=bool) if dt_small is None else dt_small
    gt_small = np.zeros(len(gt), dtype=bool) if gt_small is None else gt_small
    if options.method == "coco":
        if not dt.has_scores:
            raise InvalidInput(automation.source, "", "coco matching needs a score on every detection")
        rules = CocoRules(options.iou_threshold, options.max_dets, options.area_range)
        return coco_match(
            dt, gt, dt_key=dt_key, gt_key=gt_key, n_keys=n_keys, geometry=geometry,
            rules=rules, dt_small=dt_small, gt_small=gt_small,
        )
    if options.method == "centre":
        if not dt.has_scores:
            raise InvalidInput(automation.source, "", "centre matching needs a score on every detection")
        return centre_match(
            dt, gt, dt_key=dt_key, gt_key=gt_key, n_keys=n_keys, geometry=geometry,
            max_distance=options.max_distance, dt_small=dt_small, gt_small=gt_small,
        )
    return hungarian_match(
        dt, gt, dt_key=dt_key, gt_key=gt_key, n_keys=n_keys, geometry=geometry,
        threshold=options.iou_threshold, dt_small=dt_small, gt_small=gt_small,
    )
