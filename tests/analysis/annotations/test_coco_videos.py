"""COCO-video (TAO) fields: per-image ``video_id`` and ``frame_index``, per-object ``track_id``, read and written."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.annotations import Images, parse_ground_truth, to_coco_ground_truth
from analysis.exceptions import InvalidInput


def _doc(**image_fields: Any) -> dict[str, Any]:
    images = [{"id": i + 1, "width": 10, "height": 10, "file_name": f"{i}.png", **image_fields} for i in range(2)]
    annotations = [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [1, 1, 2, 2], "area": 4, "iscrowd": 0,
                    "track_id": 7, "video_id": image_fields.get("video_id", 0)}]
    return {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "car"}]}


def test_frames_outside_videos_read_as_minus_one() -> None:
    ann = parse_ground_truth(_doc(), "plain")
    assert ann.images.video_id.tolist() == [-1, -1] and ann.images.frame_index.tolist() == [-1, -1]
    assert not ann.images.has_videos
    assert "video_id" not in to_coco_ground_truth(ann)["images"][0]


def test_video_fields_are_read_and_written_back() -> None:
    doc = _doc(video_id=3)
    doc["images"][0]["frame_index"], doc["images"][1]["frame_index"] = 0, 1
    ann = parse_ground_truth(doc, "video")
    assert ann.images.video_id.tolist() == [3, 3] and ann.images.frame_index.tolist() == [0, 1]
    assert ann.objects.track_id.tolist() == [7] and ann.images.has_videos
    written = to_coco_ground_truth(ann)
    assert [(r["video_id"], r["frame_index"]) for r in written["images"]] == [(3, 0), (3, 1)]
    assert written["annotations"][0]["track_id"] == 7


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("video_id", "3", "expected an integer"),
    ("frame_index", 1.5, "expected an integer"),
    ("frame_index", -2, "images\\[0\\].frame_index"),
])
def test_a_bad_video_field_is_refused_with_its_place(field: str, value: Any, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_ground_truth(_doc(**{field: value}), "bad")


def test_images_built_without_video_columns_get_minus_one() -> None:
    images = Images(ids=np.arange(3), width=np.zeros(3, np.int64), height=np.zeros(3, np.int64),
                    file_names=("",) * 3, inclusion_prob=np.ones(3), index={0: 0, 1: 1, 2: 2})
    assert images.video_id.tolist() == [-1] * 3 and images.frame_index.tolist() == [-1] * 3
