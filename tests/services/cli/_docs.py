"""Small valid input documents for ``shadowqa compare`` and edits that break them.

Every test input starts as one of the valid documents below; an edit addresses a
field with the same path syntax the error messages use, e.g. ``annotations[1].bbox``
or ``[0].score`` for a bare results list.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

WIDTH, HEIGHT = 64, 48

Doc = Any
Edit = Callable[[Doc], Doc]

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def box_rle(x: int, y: int, w: int, h: int) -> dict[str, Any]:
    """Uncompressed COCO RLE of a filled box on a HEIGHT x WIDTH image (column-major runs)."""
    flat = [x <= col < x + w and y <= row < y + h for col in range(WIDTH) for row in range(HEIGHT)]
    counts, current, run = [], False, 0
    for pixel in flat:
        if pixel != current:
            counts.append(run)
            current, run = pixel, 0
        run += 1
    counts.append(run)
    return {"size": [HEIGHT, WIDTH], "counts": counts}


def manual() -> dict[str, Any]:
    """A valid COCO ground-truth document: two frames, two classes, three objects."""
    return {
        "images": [
            {"id": 1, "width": WIDTH, "height": HEIGHT, "file_name": "a.png",
             "tags": {"weather": "clear"}},
            {"id": 2, "width": WIDTH, "height": HEIGHT, "file_name": "b.png",
             "tags": {"weather": "rain"}, "inclusion_prob": 0.5},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [4, 4, 20, 10], "area": 200,
             "iscrowd": 0, "attributes": {"color": "red"}, "segmentation": box_rle(4, 4, 20, 10)},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [30, 5, 8, 20],
             "segmentation": box_rle(30, 5, 8, 20)},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [10, 10, 16, 16], "track_id": 7,
             "segmentation": box_rle(10, 10, 16, 16)},
        ],
        "categories": [
            {"id": 1, "name": "car", "supercategory": "vehicle"},
            {"id": 2, "name": "pedestrian", "supercategory": "person"},
        ],
    }


def results_list() -> list[dict[str, Any]]:
    """A valid COCO results list for :func:`manual`."""
    return [
        {"image_id": 1, "category_id": 1, "bbox": [5, 4, 20, 10], "score": 0.9,
         "segmentation": box_rle(5, 4, 20, 10)},
        {"image_id": 1, "category_id": 2, "bbox": [30, 6, 8, 20], "score": 0.8,
         "segmentation": box_rle(30, 6, 8, 20)},
        {"image_id": 2, "category_id": 1, "bbox": [10, 10, 16, 15], "score": 0.7,
         "segmentation": box_rle(10, 10, 16, 15)},
    ]


def results_object() -> dict[str, Any]:
    """A valid COCO results object: the list plus per-frame labels and a model version."""
    return {
        "annotations": results_list(),
        "images": [
            {"id": 1, "tags": {"weather": "clear"}, "confidence": 0.9, "model_version": "v2"},
            {"id": 2, "tags": {"weather": "fog"}, "confidence": 0.4},
        ],
        "model_version": "v1",
    }


def second_manual() -> dict[str, Any]:
    """A valid ground-truth-shaped automation document (a second human's annotation)."""
    doc = manual()
    doc["annotations"][0]["bbox"] = [5, 4, 20, 10]
    return doc


SPEC = """\
min_iou: 0.5
max_missed: 0
max_extra: 1
attributes: [color]
tags: [weather]
classes:
  pedestrian: {min_iou: 0.3, min_height: 5}
"""


def _path(path: str) -> list[str | int]:
    keys: list[str | int] = []
    for index, key in _TOKEN.findall(path):
        keys.append(int(index) if index else key)
    return keys


def _parent(doc: Doc, path: str) -> tuple[Any, str | int]:
    *head, last = _path(path)
    for key in head:
        doc = doc[key]
    return doc, last


def put(path: str, value: Any) -> Edit:
    """Set the field at ``path`` (adding it if absent)."""

    def edit(doc: Doc) -> Doc:
        parent, key = _parent(doc, path)
        parent[key] = value
        return doc

    return edit


def drop(path: str) -> Edit:
    """Remove the field at ``path``."""

    def edit(doc: Doc) -> Doc:
        parent, key = _parent(doc, path)
        del parent[key]
        return doc

    return edit


def whole(value: Any) -> Edit:
    """Replace the entire document."""
    return lambda _doc: copy.deepcopy(value)


def apply(doc: Doc, edits: tuple[Edit, ...]) -> Doc:
    for edit in edits:
        doc = edit(doc)
    return doc
