"""COCOeval's twelve summary numbers (AP, AP50, ..., AR large) and AP per class, equal to pycocotools'.

pycocotools' ``COCOeval.summarize()`` reports AP at IoU .50:.95, .50 and .75,
AP for small, medium and large objects, AR with 1, 10 and 100 detections per
image and AR by size. Here the matcher runs once per IoU threshold and area
range (forty runs, one IoU computation); AR with 1 and 10 detections reuses
the 100-detection matches truncated per image and class, which is what
pycocotools' ``accumulate()`` does too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from analysis.annotations.model import Annotations, IntArray
from analysis.detection.accumulate import accumulate, detection_ranking, mean_defined
from analysis.detection.average_precision import (
    ALL_AREAS,
    COCO_IOU_THRESHOLDS,
    APResult,
    ClassAP,
    Flags,
    ap_from_flags,
    match_flags,
)
from analysis.detection.contract import check_same_frames, reported_as
from analysis.detection.remembered_iou import RememberedIoU
from analysis.detection.size_recall import COCO_AREA_BUCKETS
from analysis.geometry import get_geometry
from analysis.matching.pairs import group_keys, rank_within_key

# The order and meaning of pycocotools' ``COCOeval.stats``.
STAT_NAMES: tuple[str, ...] = (
    "AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
    "AR_1", "AR_10", "AR_100", "AR_small", "AR_medium", "AR_large",
)
MAX_DETS = 100  # pycocotools' maxDets[-1]; AR_1 and AR_10 truncate it


@dataclass(frozen=True, eq=False)
class CocoSummary:
    """The twelve stats (NaN where pycocotools prints -1) and, per class, AP over all areas.

    ``overall`` is the full result for area 'all' and 100 detections, with
    pycocotools' precision ``(T, 101, K)`` and recall ``(T, K)`` arrays.
    """

    stats: Mapping[str, float]
    per_class: Mapping[str, ClassAP]
    geometry: str
    overall: APResult


def coco_summary(automation: Annotations, manual: Annotations, *, geometry: str = "box") -> CocoSummary:
    """pycocotools' ``evaluate(); accumulate(); summarize()`` for iouType ``bbox`` (box) or ``segm`` (mask)."""
    check_same_frames(automation, manual)
    overlap = RememberedIoU(get_geometry(geometry))
    with reported_as(f"COCO AP/AR of {automation.source or 'automation'} against {manual.source or 'manual'}"):
        areas = {"all": ALL_AREAS, **COCO_AREA_BUCKETS}
        flags = {name: match_flags(automation, manual, COCO_IOU_THRESHOLDS, MAX_DETS, rng, overlap)
                 for name, rng in areas.items()}
        dt = automation.objects
        ranking = detection_ranking(dt.score, manual.images.ids[dt.frame], dt.category)  # one for every area
        results = {name: ap_from_flags(flags[name], automation, manual, COCO_IOU_THRESHOLDS, MAX_DETS, areas[name],
                                       ranking=ranking)
                   for name in areas}
        overall = results["all"]
        stats = {
            "AP": overall.ap, "AP50": overall.ap50, "AP75": overall.ap75,
            "AP_small": results["small"].ap, "AP_medium": results["medium"].ap, "AP_large": results["large"].ap,
            "AR_1": _recall_within(flags["all"], ranking, automation, manual, 1),
            "AR_10": _recall_within(flags["all"], ranking, automation, manual, 10),
            "AR_100": overall.ar,
            "AR_small": results["small"].ar, "AR_medium": results["medium"].ar, "AR_large": results["large"].ar,
        }
        return CocoSummary(
            stats=MappingProxyType({name: stats[name] for name in STAT_NAMES}),
            per_class=overall.per_class, geometry=geometry, overall=overall,
        )


def _recall_within(flags: Flags, ranking: IntArray, automation: Annotations, manual: Annotations,
                   max_dets: int) -> float:
    """AR when only each image and class's ``max_dets`` best-scored detections count.

    Greedy matching takes detections in score order, so the first ``max_dets``
    are matched the same whether or not the rest exist.
    """
    dt = automation.objects
    k = len(manual.categories)
    kept = rank_within_key(dt.score, group_keys(dt.frame, dt.category, k, True)) < max_dets
    _, recall = accumulate(flags.tp & kept, flags.fp & kept, ranking, dt.category, flags.n_manual)
    return mean_defined(recall[:, np.argsort(manual.categories.ids, kind="stable")])
