"""Recall by object size equals pycocotools' recall per area range, pooled and averaged over classes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pycocotools.cocoeval import COCOeval

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.detection import COCO_AREA_BUCKETS, COCO_IOU_THRESHOLDS, SizeRecall, recall_by_size
from analysis.exceptions import InvalidInput
from services.datasets.box_pairs import PairConfig, generate
from tests.analysis.detection.reference import AREA_INDEX, coco_eval, defined, sorted_category_names
from tests.utils.factories import random_coco_pair

TOL = 1e-12


def ours(gt_doc: dict[str, Any], results: list[dict[str, Any]], **options: Any) -> SizeRecall:
    manual = parse_ground_truth(gt_doc, "gt.json")
    return recall_by_size(parse_automation(results, "results.json", manual), manual, **options)


def direct_count(ev: COCOeval, area_index: int, t: int) -> tuple[int, int]:
    """(non-ignored manual objects, those matched) counted from pycocotools' per-image results."""
    area = ev.params.areaRng[area_index]
    n = hits = 0
    for e in ev.evalImgs:
        if e is None or e["aRng"] != area:
            continue
        counted = ~e["gtIgnore"].astype(bool)
        n += int(counted.sum())
        hits += int((counted & (e["gtMatches"][t] > 0)).sum())
    return n, hits


def same(got: float, expected: float) -> bool:
    return (math.isnan(got) and math.isnan(expected)) or abs(got - expected) <= TOL


def assert_like_pycocotools(got: SizeRecall, ev: COCOeval, t: int, buckets: dict[str, int]) -> None:
    for name, a in buckets.items():
        bucket = got.buckets[name]
        n, hits = direct_count(ev, a, t)
        assert (bucket.n_manual, bucket.matched) == (n, hits), name
        assert same(bucket.recall, hits / n if n else math.nan), name
        per_class = ev.eval["recall"][t, :, a, 2]
        kept = per_class[per_class > -1]
        assert same(bucket.class_mean, float(np.mean(kept)) if kept.size else math.nan), name
        for k, cls in enumerate(sorted_category_names(ev.cocoGt.dataset)):
            assert same(bucket.per_class[cls], defined(per_class[k])), (name, cls)


@pytest.mark.parametrize(("seed", "t"), [(s, 0) for s in range(8)] + [(20, 5), (21, 9), (22, 3)])
def test_random_documents_per_coco_bucket(seed: int, t: int) -> None:
    gt_doc, results = random_coco_pair(seed, n_images=60, max_objects=20, crowd_rate=0.15)
    ev = coco_eval(gt_doc, results)
    got = ours(gt_doc, results, iou_threshold=float(ev.params.iouThrs[t]))
    assert list(got.buckets) == ["small", "medium", "large"]
    assert_like_pycocotools(got, ev, t, {name: AREA_INDEX[name] for name in got.buckets})


@pytest.mark.parametrize("seed", [0, 1])
def test_simulated_driving_frames_per_coco_bucket(seed: int) -> None:
    gt_doc, results = generate(PairConfig(frames=150, seed=seed))
    ev = coco_eval(gt_doc, results["annotations"])
    got = ours(gt_doc, results["annotations"])
    assert all(b.n_manual > 100 for b in got.buckets.values())  # every bucket is exercised
    assert_like_pycocotools(got, ev, 0, {name: AREA_INDEX[name] for name in got.buckets})


def test_class_means_over_thresholds_give_stats_9_to_11() -> None:
    """pycocotools' AR small/medium/large is the mean over IoU thresholds of the per-threshold class means."""
    gt_doc, results = generate(PairConfig(frames=100, seed=4))
    ev = coco_eval(gt_doc, results["annotations"])
    per_threshold = [ours(gt_doc, results["annotations"], iou_threshold=t) for t in COCO_IOU_THRESHOLDS]
    for i, name in enumerate(("small", "medium", "large")):
        mean = float(np.mean([r.buckets[name].class_mean for r in per_threshold]))
        assert mean == pytest.approx(ev.stats[9 + i], abs=TOL)


def test_user_buckets_equal_pycocotools_area_ranges() -> None:
    buckets = {"tiny": (0.0, 200.0), "mid": (150.0, 2000.0), "rest": (2000.0, 1e10)}  # overlapping on purpose
    gt_doc, results = random_coco_pair(30, n_images=60, max_objects=20)
    ev = coco_eval(gt_doc, results, area_rng=list(buckets.values()))
    got = ours(gt_doc, results, buckets=buckets)
    assert got.buckets["mid"].area_range == (150.0, 2000.0)
    assert_like_pycocotools(got, ev, 0, {name: i for i, name in enumerate(buckets)})


def test_object_on_a_bucket_edge_counts_in_both_buckets() -> None:
    """COCO's ranges are inclusive at both ends: an object of exactly 32² px is small and medium."""
    doc = {
        "images": [{"id": 1}], "categories": [{"id": 1, "name": "car"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 32, 32], "area": 1024.0,
                         "iscrowd": 0}],
    }
    got = ours(doc, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 32, 32], "score": 0.9}])
    counts = {name: (b.n_manual, b.matched) for name, b in got.buckets.items()}
    assert counts == {"small": (1, 1), "medium": (1, 1), "large": (0, 0)}
    assert math.isnan(got.buckets["large"].recall) and math.isnan(got.buckets["large"].class_mean)


def test_no_manual_objects_leaves_every_bucket_undefined() -> None:
    doc = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "car"}], "annotations": []}
    got = ours(doc, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 32, 32], "score": 0.9}])
    assert all(b.n_manual == 0 and math.isnan(b.recall) for b in got.buckets.values())


def test_default_buckets_are_cocos() -> None:
    gt_doc, results = random_coco_pair(0, n_images=3)
    ev = coco_eval(gt_doc, results)
    assert [list(r) for r in COCO_AREA_BUCKETS.values()] == ev.params.areaRng[1:]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"buckets": {}}, "buckets"),
        ({"buckets": {"odd": (10.0, 5.0)}}, "buckets.odd"),
        ({"iou_threshold": 0.0}, "iou"),
        ({"max_dets": 0}, "max_dets"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], field: str) -> None:
    gt_doc, results = random_coco_pair(0, n_images=3)
    with pytest.raises(InvalidInput) as err:
        ours(gt_doc, results, **options)
    assert err.value.where == field
