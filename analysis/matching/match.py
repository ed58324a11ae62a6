"""The matcher entry point: pick the method, build group keys, apply size rules."""

from __future__ import annotations

import numpy as np

from analysis.annotations.model import Annotations, BoolArray, FloatArray, IntArray
from analysis.exceptions import InvalidInput
from analysis.geometry import Geometry, get_geometry
from analysis.matching.centre import centre_match, with_centres
from analysis.matching.coco import CocoRules, coco_match
from analysis.matching.hungarian import hungarian_match
from analysis.matching.pairs import candidate_pairs, group_keys, pairs_at_least
from analysis.matching.types import Matches, MatchOptions


def match(
    automation: Annotations, manual: Annotations, options: MatchOptions, *,
    dt_small: BoolArray | None = None, gt_small: BoolArray | None = None,
    gt_max_distance: FloatArray | None = None,
) -> Matches:
    """Pair automation objects with manual objects of the same frame (and class).

    ``dt_small``/``gt_small`` mark objects below a quality spec's minimum size:
    they are ignored unless matched, as pycocotools treats its area range.
    ``gt_max_distance`` (centre matching) is each manual object's own threshold
    instead of ``options.max_distance`` (a spec's per-class ``max_distance``).
    """
    dt, gt = automation.objects, manual.objects
    k = len(manual.categories)
    dt_key = group_keys(dt.frame, dt.category, k, options.class_aware)
    gt_key = group_keys(gt.frame, gt.category, k, options.class_aware)
    n_keys = len(manual.images) * (k if options.class_aware else 1)
    geometry = matching_geometry(options)
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
            max_distance=options.max_distance if gt_max_distance is None else gt_max_distance,
            dt_small=dt_small, gt_small=gt_small,
        )
    return hungarian_match(
        dt, gt, dt_key=dt_key, gt_key=gt_key, n_keys=n_keys, geometry=geometry,
        threshold=options.iou_threshold, dt_small=dt_small, gt_small=gt_small,
    )


def matching_geometry(options: MatchOptions) -> Geometry:
    """The geometry kind ``options`` name, with the overlap they pick (an error for a kind with one overlap)."""
    kind = get_geometry(options.geometry)
    if options.overlap is None:
        return kind
    with_overlap = getattr(kind, "with_overlap", None)
    if with_overlap is None:
        raise InvalidInput("options", "overlap", f"'{kind.kind}' objects have one overlap, not '{options.overlap}' "
                           "(bev and 3d are overlaps of cuboid3d)")
    chosen: Geometry = with_overlap(options.overlap)
    return chosen


def close_pairs(
    automation: Annotations, manual: Annotations, options: MatchOptions, *, dt_key: IntArray, gt_key: IntArray,
    n_keys: int, gt_max_distance: FloatArray | None = None,
) -> tuple[IntArray, IntArray, FloatArray]:
    """The pairs sharing a key (-1: none) close enough to match under ``options``, and how close,
    in (0, 1]: their IoU (>= the threshold), or for centre matching ``1 - distance / threshold``."""
    dt, gt = automation.objects, manual.objects
    geometry = matching_geometry(options)
    if options.method != "centre":
        return pairs_at_least(geometry, dt, gt, dt_key, gt_key, n_keys, options.iou_threshold)
    kind = with_centres(geometry)
    limit = np.broadcast_to(np.asarray(options.max_distance if gt_max_distance is None else gt_max_distance,
                                       dtype=np.float64), (len(gt),))
    dp, gp = candidate_pairs(kind, dt, gt, dt_key, gt_key, n_keys, float(limit.max()) if len(gt) else 0.0)
    closeness = 1.0 - kind.pair_distance(dt, gt, dp, gp) / limit[gp]
    kept = closeness > 0
    return dp[kept], gp[kept], closeness[kept]
