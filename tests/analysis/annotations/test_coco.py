"""COCO readers and writers: round trips, results forms, masks, attributes."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from analysis.annotations import (
    parse_automation,
    parse_ground_truth,
    to_coco_ground_truth,
    to_coco_results,
)
from analysis.annotations.model import Annotations
from services.datasets.box_pairs import PairConfig, generate
from tests.utils.factories import random_coco_pair


def assert_same_objects(a: Annotations, b: Annotations) -> None:
    for name in ("frame", "ann_id", "category", "boxes", "area", "crowd", "ignore", "track_id"):
        assert np.array_equal(getattr(a.objects, name), getattr(b.objects, name)), name
    assert np.array_equal(a.objects.score, b.objects.score, equal_nan=True)


def test_ground_truth_round_trip_keeps_everything() -> None:
    manual_doc, _ = generate(PairConfig(frames=30, seed=3))
    manual = parse_ground_truth(manual_doc, "gt.json")
    again = parse_ground_truth(to_coco_ground_truth(manual), "again.json")
    assert_same_objects(manual, again)
    assert list(again.tags) == list(manual.tags)
    assert [again.objects.attributes.row(i) for i in range(5)] == [  # type: ignore[union-attr]
        manual.objects.attributes.row(i) for i in range(5)  # type: ignore[union-attr]
    ]


def test_results_object_round_trip_keeps_frame_labels() -> None:
    manual_doc, automation_doc = generate(PairConfig(frames=30, seed=4))
    manual = parse_ground_truth(manual_doc, "gt.json")
    automation = parse_automation(automation_doc, "results.json", manual)
    again = parse_automation(to_coco_results(automation), "again.json", manual)
    assert np.array_equal(again.confidence, automation.confidence)
    assert list(again.model_version) == ["sim-detector-1"] * 30
    assert np.array_equal(again.objects.boxes, automation.objects.boxes)
    assert np.array_equal(again.objects.score, automation.objects.score)


def test_results_list_and_object_forms_are_equivalent() -> None:
    gt_doc, results = random_coco_pair(5)
    manual = parse_ground_truth(gt_doc, "gt.json")
    as_list = parse_automation(results, "r.json", manual)
    as_object = parse_automation({"annotations": results}, "r.json", manual)
    assert_same_objects(as_list, as_object)


def test_objects_are_grouped_by_frame_keeping_file_order() -> None:
    gt_doc, results = random_coco_pair(6)
    manual = parse_ground_truth(gt_doc, "gt.json")
    automation = parse_automation(results[::-1], "r.json", manual)
    frame = automation.objects.frame
    assert (np.diff(frame) >= 0).all()
    first = np.flatnonzero(frame == frame[0])
    reversed_scores = [r["score"] for r in results[::-1] if manual.images.index[r["image_id"]] == frame[0]]
    assert automation.objects.score[first].tolist() == reversed_scores


def test_second_ground_truth_as_automation_maps_categories_by_id() -> None:
    gt_doc, _ = random_coco_pair(7)
    other = {**gt_doc, "categories": gt_doc["categories"][::-1]}  # same ids, other order
    manual = parse_ground_truth(gt_doc, "gt.json")
    automation = parse_automation(other, "second.json", manual)
    assert np.array_equal(automation.objects.category, manual.objects.category)
    assert np.isnan(automation.objects.score).all()


def test_rle_masks_are_read_in_both_encodings() -> None:
    mask = np.zeros((6, 8), dtype=np.uint8)
    mask[1:4, 2:7] = 1
    ref = mask_utils.encode(np.asfortranarray(mask))
    doc = {
        "images": [{"id": 1, "width": 8, "height": 6}], "categories": [{"id": 1, "name": "car"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 1, 5, 3], "iscrowd": 0,
             "segmentation": {"size": [6, 8], "counts": ref["counts"].decode()}},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [2, 1, 5, 3], "iscrowd": 0,
             "segmentation": {"size": [6, 8], "counts": [13, 3, 3, 3, 3, 3, 3, 3, 3, 3, 8]}},
        ],
    }
    manual = parse_ground_truth(doc, "gt.json", with_masks=True)
    masks = manual.objects.masks
    assert masks is not None and masks[0] == masks[1]
    assert manual.objects.area.tolist() == [15.0, 15.0]  # area from the mask when no area is given


@pytest.mark.parametrize("value", [True, "yes", 3, 2.5])
def test_attribute_values_compare_by_equality(value: object) -> None:
    gt_doc, _ = random_coco_pair(8, n_images=2, max_objects=2)
    for a in gt_doc["annotations"]:
        a["attributes"] = {"occluded": value}
    manual = parse_ground_truth(gt_doc, "gt.json")
    table = manual.objects.attributes
    assert table is not None and table.names == ("occluded",)
    assert all(table.row(i) == {"occluded": value} for i in range(len(manual.objects)))


def test_large_sparse_category_ids_need_no_dense_table() -> None:
    gt_doc, results = random_coco_pair(9, n_images=3)
    big = {c["id"]: c["id"] * 10**11 for c in gt_doc["categories"]}
    for rec in (*gt_doc["categories"], *gt_doc["annotations"], *results):
        key = "id" if "name" in rec else "category_id"
        rec[key] = big[rec[key]]
    manual = parse_ground_truth(gt_doc, "gt.json")
    automation = parse_automation(results, "r.json", manual)
    assert manual.categories.ids[manual.objects.category].tolist() == [a["category_id"] for a in gt_doc["annotations"]]
    assert len(automation.objects) == len(results)
