"""Hand-built AP cases: golden values, empty sides, ignored detections, tie order, bad options."""

from __future__ import annotations

import math
from typing import Any

import pytest

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.detection import APResult, average_precision
from analysis.exceptions import InvalidInput
from tests.analysis.detection.reference import coco_eval, defined

CATEGORIES = [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}]
Box = tuple[float, float, float, float]


def gt_doc(objects: list[tuple[int, int, Box, bool]], image_ids: tuple[int, ...] = (1,)) -> dict[str, Any]:
    """Ground truth from ``(image_id, category_id, box, crowd)`` rows."""
    anns = [
        {"id": i + 1, "image_id": img, "category_id": cat, "bbox": list(box), "area": box[2] * box[3],
         "iscrowd": int(crowd)}
        for i, (img, cat, box, crowd) in enumerate(objects)
    ]
    return {"images": [{"id": i} for i in image_ids], "annotations": anns, "categories": CATEGORIES}


def det(image_id: int, category_id: int, box: Box, score: float) -> dict[str, Any]:
    return {"image_id": image_id, "category_id": category_id, "bbox": list(box), "score": score}


def ours(doc: dict[str, Any], results: list[dict[str, Any]], **options: Any) -> APResult:
    manual = parse_ground_truth(doc, "gt.json")
    return average_precision(parse_automation(results, "results.json", manual), manual, **options)


def assert_like_pycocotools(got: APResult, doc: dict[str, Any], results: list[dict[str, Any]]) -> None:
    stats = coco_eval(doc, results).stats
    for value, stat in ((got.ap, 0), (got.ap50, 1), (got.ap75, 2), (got.ar, 8)):
        expected = defined(stats[stat])
        assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(expected, abs=1e-12)


def _box(k: int) -> Box:
    return (100.0 * k, 0.0, 10.0, 10.0)


# (ranked outcomes, manual objects, AP at IoU 0.5) — 101-point interpolation worked by hand.
GOLDEN = [
    pytest.param(["tp"], 1, 1.0, id="one hit"),
    pytest.param(["fp", "tp"], 1, 0.5, id="false positive first"),
    pytest.param(["tp", "fp", "tp"], 2, (51 + 50 * 2 / 3) / 101, id="precision 1 to recall .5, then 2/3"),
    pytest.param(["tp"], 2, 51 / 101, id="half found"),
    pytest.param(["fp", "fp", "tp", "tp"], 2, 0.5, id="envelope lifts the leading misses"),
    pytest.param(["fp"], 1, 0.0, id="only a false positive"),
    pytest.param([], 1, 0.0, id="no detection"),
    pytest.param(["tp", "tp", "tp", "fp"], 3, 1.0, id="trailing false positive costs nothing"),
]


@pytest.mark.parametrize(("outcomes", "n_manual", "expected"), GOLDEN)
def test_golden_ap50(outcomes: list[str], n_manual: int, expected: float) -> None:
    doc = gt_doc([(1, 1, _box(k), False) for k in range(n_manual)])
    results, hits = [], 0
    for rank, outcome in enumerate(outcomes):
        box = _box(hits) if outcome == "tp" else (100.0 * rank, 500.0, 10.0, 10.0)
        hits += outcome == "tp"
        results.append(det(1, 1, box, 1.0 - 0.1 * rank))
    got = ours(doc, results, iou_thresholds=(0.5,))
    assert got.ap50 == pytest.approx(expected, abs=1e-12)
    assert got.per_class["car"].recall50 == pytest.approx(hits / n_manual)
    assert_like_pycocotools(ours(doc, results), doc, results)


def test_score_ties_across_images_rank_by_ascending_image_id() -> None:
    """Image 2 comes first in the file, but pycocotools ranks image 1's tied detection first."""
    doc = gt_doc([(1, 1, _box(0), False)], image_ids=(2, 1))
    results = [det(2, 1, _box(0), 0.5), det(1, 1, _box(0), 0.5)]  # a false positive, then the hit
    got = ours(doc, results)
    assert got.ap50 == pytest.approx(1.0)  # the other order gives 0.5
    assert_like_pycocotools(got, doc, results)


def test_no_detections_at_all() -> None:
    doc = gt_doc([(1, 1, _box(0), False), (1, 2, _box(1), False)])
    got = ours(doc, [])
    assert (got.ap, got.ar, got.per_class["car"].ap, got.per_class["person"].recall50) == (0.0, 0.0, 0.0, 0.0)
    assert_like_pycocotools(got, doc, [])


def test_class_with_detections_but_no_manual_objects_is_left_out() -> None:
    doc = gt_doc([(1, 1, _box(0), False)])
    results = [det(1, 1, _box(0), 0.9), det(1, 2, _box(1), 0.8)]
    got = ours(doc, results)
    person = got.per_class["person"]
    assert person.n_manual == 0 and math.isnan(person.ap) and math.isnan(person.recall50)
    assert got.ap == got.per_class["car"].ap == pytest.approx(1.0)
    assert_like_pycocotools(got, doc, results)


def test_class_with_manual_objects_but_no_detections_scores_zero() -> None:
    doc = gt_doc([(1, 1, _box(0), False), (1, 2, _box(1), False)])
    results = [det(1, 1, _box(0), 0.9)]
    got = ours(doc, results)
    assert got.per_class["person"].ap == 0.0 and got.per_class["person"].recall50 == 0.0
    assert got.ap == pytest.approx(0.5)
    assert_like_pycocotools(got, doc, results)


@pytest.mark.parametrize("with_regular_object", [True, False])
def test_all_detections_ignored(with_regular_object: bool) -> None:
    """Detections only on a crowd region: neither hits nor false positives."""
    crowd: list[tuple[int, int, Box, bool]] = [(1, 1, (0.0, 0.0, 50.0, 50.0), True)]
    regular: list[tuple[int, int, Box, bool]] = [(1, 1, _box(3), False)] if with_regular_object else []
    doc = gt_doc(crowd + regular)
    results = [det(1, 1, (5.0, 5.0, 10.0, 10.0), 0.9), det(1, 1, (20.0, 20.0, 10.0, 10.0), 0.8)]
    got = ours(doc, results)
    if with_regular_object:
        assert (got.ap, got.ar) == (0.0, 0.0)
    else:
        assert math.isnan(got.ap) and math.isnan(got.ar)
    assert_like_pycocotools(got, doc, results)


def test_no_manual_objects_gives_nan_everywhere() -> None:
    doc = gt_doc([])
    results = [det(1, 1, _box(0), 0.9)]
    got = ours(doc, results)
    assert all(math.isnan(v) for v in (got.ap, got.ap50, got.ap75, got.ar))
    assert_like_pycocotools(got, doc, results)


def test_manual_annotation_id_zero_counts_like_any_other() -> None:
    """pycocotools stores the matched id as the match flag, so a hit on annotation id 0 reads as a miss
    (AP 0). The core keys matches by position, so ids do not matter: equal to pycocotools with ids from 1."""
    doc = gt_doc([(1, 1, _box(0), False), (1, 1, _box(1), False)])
    results = [det(1, 1, _box(0), 0.9), det(1, 1, _box(1), 0.8)]
    zero_based = {**doc, "annotations": [{**a, "id": a["id"] - 1} for a in doc["annotations"]]}
    got = ours(zero_based, results)
    assert got.ap == pytest.approx(1.0)
    assert_like_pycocotools(got, doc, results)


def test_thresholds_without_half_leave_ap50_undefined() -> None:
    doc = gt_doc([(1, 1, _box(0), False)])
    got = ours(doc, [det(1, 1, _box(0), 0.9)], iou_thresholds=(0.6, 0.7))
    assert math.isnan(got.ap50) and math.isnan(got.ap75) and math.isnan(got.per_class["car"].recall50)
    assert got.ap == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"iou_thresholds": ()}, "iou_thresholds"),
        ({"iou_thresholds": (0.5, 0.0)}, "iou_thresholds[1]"),
        ({"iou_thresholds": (1.5,)}, "iou_thresholds[0]"),
        ({"iou_thresholds": (float("nan"),)}, "iou_thresholds[0]"),
        ({"max_dets": 0}, "max_dets"),
        ({"area_range": (10.0, 1.0)}, "area_range"),
        ({"area_range": (-1.0, 1.0)}, "area_range"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], field: str) -> None:
    doc = gt_doc([(1, 1, _box(0), False)])
    with pytest.raises(InvalidInput) as err:
        ours(doc, [det(1, 1, _box(0), 0.9)], **options)
    assert err.value.where == field


def test_automation_on_other_frames_is_refused() -> None:
    doc = gt_doc([(1, 1, _box(0), False)])
    other = gt_doc([(2, 1, _box(0), False)], image_ids=(2,))
    manual = parse_ground_truth(doc, "gt.json")
    automation = parse_automation([det(2, 1, _box(0), 0.9)], "results.json", parse_ground_truth(other, "other.json"))
    with pytest.raises(InvalidInput, match="frames differ"):
        average_precision(automation, manual)


def test_unscored_automation_is_refused() -> None:
    doc = gt_doc([(1, 1, _box(0), False)])
    manual = parse_ground_truth(doc, "gt.json")
    automation = parse_automation(doc, "second_annotator.json", manual)
    with pytest.raises(InvalidInput, match="score"):
        average_precision(automation, manual)
