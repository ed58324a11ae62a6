"""Optimal matching: the most pairs above the threshold, then the largest total IoU."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.geometry import box_iou
from analysis.matching import MatchOptions, match
from tests.utils.docs import dt_object as dt
from tests.utils.docs import gt_object as gt
from tests.utils.docs import pair
from tests.utils.factories import random_coco_pair

HUNGARIAN = MatchOptions()


@pytest.mark.parametrize(
    ("case", "gts", "dts", "options", "tp", "fp", "fn"),
    [
        ("exact box", [gt(1, [0, 0, 10, 10])], [dt([0, 0, 10, 10])], HUNGARIAN, 1, 0, 0),
        ("IoU exactly 0.5 matches", [gt(1, [0, 0, 10, 10])], [dt([0, 0, 10, 5])], HUNGARIAN, 1, 0, 0),
        ("IoU just below 0.5", [gt(1, [0, 0, 10, 10])], [dt([0, 0, 10, 4.99])], HUNGARIAN, 0, 1, 1),
        ("wrong class", [gt(1, [0, 0, 10, 10])], [dt([0, 0, 10, 10], cat=2)], HUNGARIAN, 0, 1, 1),
        ("wrong class, class-agnostic", [gt(1, [0, 0, 10, 10])], [dt([0, 0, 10, 10], cat=2)],
         MatchOptions(class_aware=False), 1, 0, 0),
        ("duplicate detection", [gt(1, [0, 0, 10, 10])], [dt([0, 0, 10, 10]), dt([0, 0, 10, 10])],
         HUNGARIAN, 1, 1, 0),
        ("crowd region absorbs detections", [gt(1, [0, 0, 100, 100], iscrowd=1)],
         [dt([0, 0, 10, 10]), dt([50, 50, 10, 10])], HUNGARIAN, 0, 0, 0),
        ("ignored object absorbs its detection", [gt(1, [0, 0, 10, 10], ignore=1)], [dt([0, 0, 10, 10])],
         HUNGARIAN, 0, 0, 0),
        ("unmatched ignored object is no miss", [gt(1, [0, 0, 10, 10], ignore=1)], [], HUNGARIAN, 0, 0, 0),
        ("empty frame", [], [], HUNGARIAN, 0, 0, 0),
        ("higher threshold", [gt(1, [0, 0, 10, 10])], [dt([0, 0, 10, 7])], MatchOptions(iou_threshold=0.75),
         0, 1, 1),
    ],
)
def test_match_table(case: str, gts: list, dts: list, options: MatchOptions, tp: int, fp: int, fn: int) -> None:
    automation, manual = pair(gts, dts)
    m = match(automation, manual, options)
    assert (len(m.dt), int(m.false_positive.sum()), int(m.false_negative.sum())) == (tp, fp, fn), case


def test_optimal_beats_greedy_on_crossing_boxes() -> None:
    """Detection 0 fits either box; only the assignment leaving box 0 to detection 1 matches both."""
    gts = [gt(1, [0, 0, 10, 10]), gt(2, [6, 0, 10, 10])]
    dts = [dt([3, 0, 10, 10]), dt([-2, 0, 10, 10])]
    automation, manual = pair(gts, dts)
    m = match(automation, manual, MatchOptions(iou_threshold=0.3))
    assert sorted(zip(m.dt.tolist(), m.gt.tolist(), strict=True)) == [(0, 1), (1, 0)]


def _brute_force(iou: np.ndarray, threshold: float) -> tuple[int, float]:
    """(most pairs, then largest total IoU) over every one-to-one assignment."""
    n, k = iou.shape
    best = (0, 0.0)
    for size in range(min(n, k), 0, -1):
        for rows in itertools.combinations(range(n), size):
            for cols in itertools.permutations(range(k), size):
                vals = iou[list(rows), list(cols)]
                if (vals >= threshold).all():
                    best = max(best, (size, float(vals.sum())))
        if best[0] == size:
            return best
    return best


@pytest.mark.parametrize("seed", range(40))
def test_equals_brute_force_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    base = rng.uniform(0, 20, size=(k, 2))
    gt_boxes = np.hstack([base, np.full((k, 2), 10.0)])
    dt_boxes = np.hstack([base[rng.integers(0, k, n)] + rng.normal(0, 3, (n, 2)), np.full((n, 2), 10.0)])
    gts = [gt(i + 1, [float(v) for v in b]) for i, b in enumerate(gt_boxes)]
    automation, manual = pair(gts, [dt([float(v) for v in b]) for b in dt_boxes])
    m = match(automation, manual, MatchOptions(iou_threshold=0.3))
    iou = box_iou(np.repeat(dt_boxes, k, 0), np.tile(gt_boxes, (n, 1)), np.zeros(n * k, bool)).reshape(n, k)
    assert (len(m.dt), pytest.approx(float(m.iou.sum()), abs=1e-9)) == _brute_force(iou, 0.3)


def test_one_to_one_and_same_frame_and_class_on_random_data() -> None:
    gt_doc, results = random_coco_pair(11, n_images=80, max_objects=20, crowd_rate=0.05)
    manual = parse_ground_truth(gt_doc, "gt.json")
    automation = parse_automation(results, "results.json", manual)
    m = match(automation, manual, HUNGARIAN)
    assert len(set(m.dt.tolist())) == len(m.dt) and len(set(m.gt.tolist())) == len(m.gt)
    assert (automation.objects.frame[m.dt] == manual.objects.frame[m.gt]).all()
    assert (automation.objects.category[m.dt] == manual.objects.category[m.gt]).all()
    assert (m.iou >= 0.5).all() and not manual.objects.crowd[m.gt].any()
    assert not (m.dt_ignored & m.dt_matched).any()


@pytest.mark.parametrize("method", ["hungarian", "coco"])
def test_detections_on_frames_without_manual_objects_are_false_positives(method: str) -> None:
    automation, manual = pair([], [dt([0, 0, 10, 10]), dt([5, 5, 10, 10], cat=2)])
    m = match(automation, manual, MatchOptions(method=method))  # type: ignore[arg-type]
    assert m.false_positive.tolist() == [True, True] and len(m.dt) == 0
