"""Tiny hand-written COCO documents for table-style tests."""

from __future__ import annotations

from typing import Any

from analysis.annotations import Annotations, parse_automation, parse_ground_truth

CATEGORIES = [{"id": 1, "name": "car"}, {"id": 2, "name": "pedestrian"}]


def gt_object(ann_id: int, box: list[float], cat: int = 1, image: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": ann_id, "image_id": image, "category_id": cat, "bbox": box,
            "area": box[2] * box[3], "iscrowd": 0, **extra}


def dt_object(box: list[float], cat: int = 1, score: float = 0.9, image: int = 1, **extra: Any) -> dict[str, Any]:
    return {"image_id": image, "category_id": cat, "bbox": box, "score": score, **extra}


def pair(
    gts: list[dict[str, Any]], dts: list[dict[str, Any]], images: int = 1, **image_fields: Any
) -> tuple[Annotations, Annotations]:
    """(automation, manual) annotations of ``images`` frames."""
    doc = {
        "images": [{"id": i + 1, "width": 640, "height": 480, **image_fields} for i in range(images)],
        "annotations": gts, "categories": CATEGORIES,
    }
    manual = parse_ground_truth(doc, "gt.json")
    return parse_automation(dts, "results.json", manual), manual
