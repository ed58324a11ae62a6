"""COCO ground truth of synthetic driving frames.

Annotation ids are ``image_id * 1000 + k`` so a frame's records are the same
whether it is rendered alone or as part of a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.datasets.driving.render import DrivingObject, FrameLabels
from services.datasets.driving.scene import CATEGORIES, HEIGHT, WIDTH

IDS_PER_IMAGE = 1000
FRAME_FOLDER = "frames"


def categories() -> list[dict[str, Any]]:
    return [{"id": i + 1, "name": name, "supercategory": "road"} for i, name in enumerate(CATEGORIES)]


def image_id(index: int) -> int:
    """COCO image id of frame ``index`` (0-based)."""
    return index + 1


def file_name(index: int) -> str:
    return f"{FRAME_FOLDER}/{image_id(index):06d}.png"


def image_record(index: int, tags: dict[str, str]) -> dict[str, Any]:
    return {"id": image_id(index), "width": WIDTH, "height": HEIGHT, "file_name": file_name(index), "tags": dict(tags)}


def annotation_record(index: int, k: int, obj: DrivingObject) -> dict[str, Any]:
    """The ``k``-th (0-based) object of frame ``index`` as a COCO annotation."""
    x, y, w, h = obj.bbox
    return {
        "id": image_id(index) * IDS_PER_IMAGE + k + 1, "image_id": image_id(index), "category_id": obj.category_id,
        "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
        "attributes": {"occluded": obj.occluded, "truncated": obj.truncated, "visibility": obj.visibility},
    }


def frame_records(labels: FrameLabels) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The image record and the annotation records of one frame."""
    annotations = [annotation_record(labels.index, k, obj) for k, obj in enumerate(labels.objects)]
    return image_record(labels.index, labels.tags), annotations


def ground_truth(
    records: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]], seed: int
) -> dict[str, Any]:
    """A COCO ground-truth document from per-frame records, in frame order."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image, objects in records:
        images.append(image)
        annotations.extend(objects)
    return {
        "info": {"description": "shadowqa synthetic driving scenes", "seed": seed, "version": 1},
        "images": images, "annotations": annotations, "categories": categories(),
    }
