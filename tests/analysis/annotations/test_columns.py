"""Annotations built from columns equal what the COCO reader makes of the same objects."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.annotations import parse_ground_truth
from analysis.annotations.coco_frames import parse_categories
from analysis.annotations.columns import FrameColumns, annotations_of, frames_of, shared_kind
from analysis.exceptions import InvalidInput

CATEGORIES = [{"id": 3, "name": "car"}, {"id": 7, "name": "bus"}]
BOXES = [(1.0, 2.0, 3.0, 4.0), (0.0, 0.0, 10.0, 5.5), (5.0, 5.0, 2.0, 2.0)]


def _side(kinds: list[str] | None = None, category_ids: list[int] | None = None) -> FrameColumns:
    return FrameColumns(counts=[2, 0, 1], kinds=kinds or ["box2d"] * 3, values=BOXES,
                        category_ids=category_ids or [7, 3, 3], tags=[{"w": "rain"}, {}, {"w": "sun"}],
                        attributes=[{"occluded": True}, None, {"occluded": False}])


def test_columns_equal_the_coco_reader() -> None:
    doc = {"categories": CATEGORIES, "images": [{"id": i, "tags": t} for i, t in enumerate(_side().tags)],
           "annotations": [{"id": k + 1, "image_id": f, "category_id": c, "bbox": list(b), "area": b[2] * b[3],
                            "iscrowd": 0, **({"attributes": a} if a else {})}
                           for k, (f, c, b, a) in enumerate(zip([0, 0, 2], [7, 3, 3], BOXES,
                                                                _side().attributes or [], strict=True))]}
    coco = parse_ground_truth(doc, "gt").objects
    ours = annotations_of(_side(), frames_of(3), parse_categories(CATEGORIES, "c"), kind="box2d", source="s")
    o = ours.objects
    for name in ("frame", "ann_id", "category", "area", "crowd", "ignore", "track_id"):
        assert np.array_equal(getattr(o, name), getattr(coco, name)), name
    assert np.array_equal(o.boxes, coco.boxes) and np.isnan(o.score).all()
    assert o.attributes is not None and coco.attributes is not None
    assert [o.attributes.row(i) for i in range(3)] == [coco.attributes.row(i) for i in range(3)]
    assert list(ours.tags) == [{"w": "rain"}, {}, {"w": "sun"}] and ours.frame_offsets.tolist() == [0, 2, 2, 3]


def test_one_kind_per_comparison_and_known_categories_only() -> None:
    assert shared_kind([_side(), FrameColumns([], [], [], [], [])], "mask") == "box2d"
    assert shared_kind([FrameColumns([0], [], [], [], [{}])], "mask") == "mask"
    mixed = _side(kinds=["box2d", "polygon", "box2d"])
    with pytest.raises(InvalidInput, match=r"several geometry kinds \['box2d', 'polygon'\]"):
        shared_kind([mixed], "box2d")
    with pytest.raises(InvalidInput, match=r"s: object 1: is a 'polygon', not a 'box2d' geometry"):
        annotations_of(mixed, frames_of(3), parse_categories(CATEGORIES, "c"), kind="box2d", source="s")
    with pytest.raises(InvalidInput, match=r"frame 0: object 1: category 4 is not in the categories"):
        annotations_of(_side(category_ids=[7, 4, 3]), frames_of(3), parse_categories(CATEGORIES, "c"),
                       kind="box2d", source="s")
