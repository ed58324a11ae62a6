"""``--matching coco`` gives per-image TP/FP/FN identical to pycocotools."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.annotations import Annotations, parse_automation, parse_ground_truth
from analysis.matching import MatchOptions, match
from tests.utils.factories import random_coco_pair
from tests.utils.pycoco import Counts, pycocotools_counts


def our_counts(automation: Annotations, manual: Annotations, options: MatchOptions) -> Counts:
    m = match(automation, manual, options)
    n = len(manual.images)
    tp = np.bincount(manual.objects.frame[m.gt], minlength=n)
    fp = np.bincount(automation.objects.frame[m.false_positive], minlength=n)
    fn = np.bincount(manual.objects.frame[m.false_negative], minlength=n)
    return {
        int(i): (int(tp[f]), int(fp[f]), int(fn[f]))
        for f, i in enumerate(manual.images.ids.tolist())
        if tp[f] or fp[f] or fn[f]
    }


def nonzero(counts: Counts) -> Counts:
    return {k: v for k, v in counts.items() if any(v)}


@pytest.mark.parametrize("seed", range(25))
def test_identical_to_pycocotools_at_iou_half_area_all_maxdets_100(seed: int) -> None:
    gt_doc, results = random_coco_pair(seed, n_images=60, max_objects=15, crowd_rate=0.1)
    manual = parse_ground_truth(gt_doc, "gt.json")
    automation = parse_automation(results, "results.json", manual)
    ours = our_counts(automation, manual, MatchOptions(method="coco"))
    assert ours == nonzero(pycocotools_counts(gt_doc, results))


@pytest.mark.parametrize(
    ("seed", "iou", "area_range", "max_dets"),
    [
        (101, 0.3, (0.0, 1e10), 100),
        (102, 0.75, (0.0, 1e10), 100),
        (103, 0.5, (0.0, 32.0**2), 100),
        (104, 0.5, (32.0**2, 96.0**2), 100),
        (105, 0.5, (96.0**2, 1e10), 100),
        (106, 0.5, (0.0, 1e10), 1),
        (107, 0.5, (0.0, 1e10), 3),
        (108, 0.95, (0.0, 1e10), 10),
    ],
)
def test_identical_for_other_thresholds_area_ranges_and_max_dets(
    seed: int, iou: float, area_range: tuple[float, float], max_dets: int
) -> None:
    gt_doc, results = random_coco_pair(seed, n_images=50, max_objects=25, crowd_rate=0.2)
    manual = parse_ground_truth(gt_doc, "gt.json")
    automation = parse_automation(results, "results.json", manual)
    options = MatchOptions(method="coco", iou_threshold=iou, area_range=area_range, max_dets=max_dets)
    expected = pycocotools_counts(gt_doc, results, iou=iou, area_range=area_range, max_dets=max_dets)
    assert our_counts(automation, manual, options) == nonzero(expected)


def test_random_data_exercises_both_resolution_paths() -> None:
    """The bulk path and the greedy path must both be covered by the cases above."""
    import analysis.matching.coco as coco

    calls = {"bulk": 0, "greedy": 0}
    real_bulk, real_greedy = coco._resolve_bulk, coco._resolve_greedy

    def bulk(dp, *a, **k):  # type: ignore[no-untyped-def]
        calls["bulk"] += len(dp)
        return real_bulk(dp, *a, **k)

    def greedy(dp, *a, **k):  # type: ignore[no-untyped-def]
        calls["greedy"] += len(dp)
        return real_greedy(dp, *a, **k)

    gt_doc, results = random_coco_pair(3, n_images=60, max_objects=15, crowd_rate=0.1)
    manual = parse_ground_truth(gt_doc, "gt.json")
    automation = parse_automation(results, "results.json", manual)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(coco, "_resolve_bulk", bulk)
        mp.setattr(coco, "_resolve_greedy", greedy)
        match(automation, manual, MatchOptions(method="coco"))
    assert calls["bulk"] > 100 and calls["greedy"] > 100


def test_score_ties_keep_file_order() -> None:
    """Two detections with equal score on one manual box: the earlier one in the file wins."""
    gt_doc = {
        "images": [{"id": 1}], "categories": [{"id": 5, "name": "car"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [0, 0, 10, 10], "area": 100,
                         "iscrowd": 0}],
    }
    results = [
        {"image_id": 1, "category_id": 5, "bbox": [0, 0, 10, 9], "score": 0.5},
        {"image_id": 1, "category_id": 5, "bbox": [0, 0, 10, 10], "score": 0.5},
    ]
    manual = parse_ground_truth(gt_doc, "gt.json")
    automation = parse_automation(results, "results.json", manual)
    m = match(automation, manual, MatchOptions(method="coco"))
    assert m.dt.tolist() == [0] and m.false_positive.tolist() == [False, True]
    assert our_counts(automation, manual, MatchOptions(method="coco")) == pycocotools_counts(gt_doc, results)
