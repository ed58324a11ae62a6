"""COCO AP and AR from the core equal pycocotools' ``COCOeval`` (evaluate, accumulate, summarize) to 1e-12."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pycocotools.cocoeval import COCOeval

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.detection import COCO_IOU_THRESHOLDS, APResult, average_precision
from services.datasets.box_pairs import PairConfig, generate
from tests.analysis.detection.reference import AREA_INDEX, coco_eval, defined, sorted_category_names
from tests.utils.factories import random_coco_pair

TOL = 1e-12
AREAS = {"all": (0.0, 1e10), "small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e10)}
MAX_DETS_INDEX = {1: 0, 10: 1, 100: 2}  # pycocotools' default maxDets [1, 10, 100]

Doc = dict[str, Any]
Results = list[dict[str, Any]]


def ours(gt_doc: Doc, results: Results, **options: Any) -> APResult:
    manual = parse_ground_truth(gt_doc, "gt.json")
    return average_precision(parse_automation(results, "results.json", manual), manual, **options)


def same(got: float, expected: float) -> bool:
    expected = defined(expected)
    return (math.isnan(got) and math.isnan(expected)) or abs(got - expected) <= TOL


def assert_summary(got: APResult, ev: COCOeval, area: str = "all", max_dets: int = 100) -> None:
    """AP@[.5:.95], AP@.5, AP@.75 and AR as ``summarize()`` would print them, and per-class values."""
    a, m = AREA_INDEX[area], MAX_DETS_INDEX[max_dets]
    precision, recall = ev.eval["precision"][:, :, :, a, m], ev.eval["recall"][:, :, a, m]
    expected = {"ap": _mean(precision), "ap50": _mean(precision[:1]), "ap75": _mean(precision[5:6]),
                "ar": _mean(recall)}
    actual = {"ap": got.ap, "ap50": got.ap50, "ap75": got.ap75, "ar": got.ar}
    assert all(same(actual[k], expected[k]) for k in expected), (actual, expected)
    for k, name in enumerate(sorted_category_names(ev.cocoGt.dataset)):
        c = got.per_class[name]
        assert same(c.ap, _mean(precision[:, :, k])), (name, c.ap)
        assert same(c.ap50, _mean(precision[0, :, k])), (name, c.ap50)
        assert same(c.recall50, recall[0, k]), (name, c.recall50)
        assert same(c.ar, _mean(recall[:, k])), (name, c.ar)


def _mean(values: Any) -> float:
    """pycocotools' summarize(): mean of the entries above -1, else -1."""
    kept = values[values > -1]
    return float(np.mean(kept)) if kept.size else -1.0


@pytest.mark.parametrize(
    ("seed", "max_objects", "crowd_rate", "score_levels"),
    [(s, 15, 0.1, 5) for s in range(20)]
    + [(100 + s, 30, 0.25, 3) for s in range(8)]  # dense, many crowds, many ties
    + [(200 + s, 8, 0.0, 1000) for s in range(4)],  # sparse, no crowds, few ties
)
def test_equals_pycocotools_on_random_documents(seed: int, max_objects: int, crowd_rate: float,
                                                 score_levels: int) -> None:
    gt_doc, results = random_coco_pair(seed, n_images=60, max_objects=max_objects, crowd_rate=crowd_rate,
                                       score_levels=score_levels)
    ev = coco_eval(gt_doc, results)
    got = ours(gt_doc, results)
    assert_summary(got, ev)
    assert [got.ap, got.ap50, got.ap75, got.ar] == pytest.approx(list(ev.stats[[0, 1, 2, 8]]), abs=TOL)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_pycocotools_on_simulated_driving_frames(seed: int) -> None:
    gt_doc, results = generate(PairConfig(frames=150, seed=seed))
    ev = coco_eval(gt_doc, results["annotations"])
    for area, bounds in AREAS.items():
        assert_summary(ours(gt_doc, results["annotations"], area_range=bounds), ev, area=area)


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_area_ranges_equal_stats_3_to_5_and_9_to_11(seed: int) -> None:
    gt_doc, results = random_coco_pair(seed, n_images=80, max_objects=20, crowd_rate=0.1)
    ev = coco_eval(gt_doc, results)
    for i, area in enumerate(("small", "medium", "large")):
        got = ours(gt_doc, results, area_range=AREAS[area])
        assert same(got.ap, ev.stats[3 + i]) and same(got.ar, ev.stats[9 + i]), (area, got.ap, got.ar)
        assert_summary(got, ev, area=area)


@pytest.mark.parametrize(("seed", "max_dets", "stat"), [(7, 1, 6), (8, 10, 7), (9, 1, 6), (10, 10, 7)])
def test_max_dets_equal_stats_6_and_7(seed: int, max_dets: int, stat: int) -> None:
    """pycocotools truncates to maxDets inside accumulate(); matching only max_dets first gives the same."""
    gt_doc, results = random_coco_pair(seed, n_images=60, max_objects=25, crowd_rate=0.1)
    ev = coco_eval(gt_doc, results)
    got = ours(gt_doc, results, max_dets=max_dets)
    assert same(got.ar, ev.stats[stat])
    assert_summary(got, ev, max_dets=max_dets)


@pytest.mark.parametrize("thresholds", [(0.5,), (0.3, 0.5, 0.7), (0.75, 0.9), (0.55, 0.65)])
def test_custom_thresholds_equal_pycocotools(thresholds: tuple[float, ...]) -> None:
    gt_doc, results = random_coco_pair(11, n_images=60, max_objects=15)
    ev = coco_eval(gt_doc, results, iou_thrs=thresholds)
    got = ours(gt_doc, results, iou_thresholds=thresholds)
    assert got.iou_thresholds == thresholds
    for value, stat in ((got.ap, 0), (got.ap50, 1), (got.ap75, 2), (got.ar, 8)):
        assert same(value, ev.stats[stat]), (value, ev.stats[stat])


def test_default_thresholds_are_pycocotools_own() -> None:
    gt_doc, results = random_coco_pair(0, n_images=5)
    ev = coco_eval(gt_doc, results)
    assert np.array_equal(np.array(COCO_IOU_THRESHOLDS), ev.params.iouThrs)


def test_interpolated_curves_equal_pycocotools_arrays() -> None:
    """The full (T, 101, K) precision and (T, K) recall, classes in file order vs pycocotools' id order."""
    gt_doc, results = random_coco_pair(12, n_images=60, max_objects=15, crowd_rate=0.1)
    gt_doc["categories"] = gt_doc["categories"][::-1]  # file order differs from id order
    ev = coco_eval(gt_doc, results)
    got = ours(gt_doc, results)
    by_id = np.argsort([c["id"] for c in gt_doc["categories"]])
    expected_p, expected_r = ev.eval["precision"][:, :, :, 0, 2], ev.eval["recall"][:, :, 0, 2]
    np.testing.assert_array_equal(np.nan_to_num(got.precision[:, :, by_id], nan=-1.0), expected_p)
    np.testing.assert_array_equal(np.nan_to_num(got.recall[:, by_id], nan=-1.0), expected_r)
