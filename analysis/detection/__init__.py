"""Detection metrics on the matching core: COCO average precision and recall by object size."""

from analysis.detection.accumulate import RECALL_THRESHOLDS
from analysis.detection.average_precision import ALL_AREAS, COCO_IOU_THRESHOLDS, APResult, ClassAP, average_precision
from analysis.detection.coco_summary import STAT_NAMES, CocoSummary, coco_summary
from analysis.detection.size_recall import COCO_AREA_BUCKETS, BucketRecall, SizeRecall, recall_by_size

__all__ = [
    "ALL_AREAS",
    "COCO_AREA_BUCKETS",
    "COCO_IOU_THRESHOLDS",
    "RECALL_THRESHOLDS",
    "STAT_NAMES",
    "APResult",
    "BucketRecall",
    "ClassAP",
    "CocoSummary",
    "SizeRecall",
    "average_precision",
    "coco_summary",
    "recall_by_size",
]
