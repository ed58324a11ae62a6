"""nuScenes-style AP and true-positive errors equal nuscenes-devkit 1.2.0's ``accumulate``, ``calc_ap``
and ``calc_tp`` on randomized frames (ties in score and duplicate manual cuboids included)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.detection3d import NUSCENES_DISTANCES, calc_ap, calc_tp, class_curves, nuscenes_detection
from analysis.detection3d.curves import ERRORS, MetricCurves
from tests.analysis.references3d import (
    NUSCENES_CLASSES,
    Frames,
    cuboid_sides,
    devkit_boxes,
    devkit_metrics,
    nuscenes_scene,
)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_curves_ap_and_tp_errors_equal_the_devkit(seed: int) -> None:
    frames, detections = nuscenes_scene(seed, 60)
    automation, manual = cuboid_sides(frames, detections)
    gt = devkit_boxes(frames, None)
    pred = devkit_boxes([[(b, c) for b, c, _ in f] for f in detections], [[s for *_, s in f] for f in detections])
    for distance in NUSCENES_DISTANCES:
        ours = class_curves(automation, manual, distance)
        for name in NUSCENES_CLASSES:
            theirs = devkit_metrics(gt, pred, name, distance)
            _assert_same_curves(ours[name], theirs)
            assert calc_ap(ours[name], 0.1, 0.1) == pytest.approx(_devkit_ap(theirs), abs=1e-9)
            for error in ERRORS:
                assert calc_tp(ours[name], 0.1, error) == pytest.approx(_devkit_tp(theirs, error), abs=1e-9)


def test_the_summary_averages_the_devkit_ap_over_thresholds_and_classes() -> None:
    frames, detections = nuscenes_scene(7, 80)
    automation, manual = cuboid_sides(frames, detections)
    gt = devkit_boxes(frames, None)
    pred = devkit_boxes([[(b, c) for b, c, _ in f] for f in detections], [[s for *_, s in f] for f in detections])
    result = nuscenes_detection(automation, manual)
    class_aps = []
    for name in NUSCENES_CLASSES:
        aps = [_devkit_ap(devkit_metrics(gt, pred, name, d)) for d in NUSCENES_DISTANCES]
        assert result.classes[name].ap == pytest.approx(float(np.mean(aps)), abs=1e-9)
        at_2m = devkit_metrics(gt, pred, name, 2.0)
        assert result.classes[name].trans_err == pytest.approx(_devkit_tp(at_2m, "trans_err"), abs=1e-9)
        class_aps.append(np.mean(aps))
    assert np.isnan(result.classes["traffic_cone"].orient_err)  # nuScenes: a cone has no orientation
    assert result.mean_ap == pytest.approx(float(np.mean(class_aps)), abs=1e-9)


def test_edge_cases_equal_the_devkit() -> None:
    """No manual object of a class, no detection, and no match at all."""
    box = np.array([0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.3])
    far = box + np.r_[10.0, 0, 0, 0, 0, 0, 0]
    frames: Frames = [[(box, 0)], [(box, 1)]]
    detections = [[(far, 0, 0.5)], []]
    automation, manual = cuboid_sides(frames, detections)
    gt = devkit_boxes(frames, None)
    pred = devkit_boxes([[(b, c) for b, c, _ in f] for f in detections], [[s for *_, s in f] for f in detections])
    ours = class_curves(automation, manual, 2.0)
    for name in NUSCENES_CLASSES:
        _assert_same_curves(ours[name], devkit_metrics(gt, pred, name, 2.0))
    result = nuscenes_detection(automation, manual)
    assert result.classes["car"].ap == 0.0 and np.isnan(result.classes["barrier"].ap)


def _assert_same_curves(ours: MetricCurves, theirs: object) -> None:
    for field in ("recall", "precision", "confidence"):
        np.testing.assert_allclose(getattr(ours, field), getattr(theirs, field), rtol=0, atol=1e-9, err_msg=field)
    for error in ERRORS:
        np.testing.assert_allclose(ours.errors[error], getattr(theirs, error), rtol=0, atol=1e-9, err_msg=error)


def _devkit_ap(md: object) -> float:
    from nuscenes.eval.detection.algo import calc_ap as devkit_calc_ap

    return float(devkit_calc_ap(md, 0.1, 0.1))


def _devkit_tp(md: object, error: str) -> float:
    from nuscenes.eval.detection.algo import calc_tp as devkit_calc_tp

    return float(devkit_calc_tp(md, 0.1, error))
