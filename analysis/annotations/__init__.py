"""The annotation model and its COCO readers and writers."""

from analysis.annotations.coco import parse_automation, parse_ground_truth
from analysis.annotations.coco_write import to_coco_ground_truth, to_coco_results
from analysis.annotations.model import Annotations, Categories, Images, Objects, Rle

__all__ = [
    "Annotations",
    "Categories",
    "Images",
    "Objects",
    "Rle",
    "parse_automation",
    "parse_ground_truth",
    "to_coco_ground_truth",
    "to_coco_results",
]
