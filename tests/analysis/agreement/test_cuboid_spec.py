"""Quality specs on cuboids: centre or IoU matching, BEV or 3D overlap, per-class distance and yaw limits;
centre matching under a spec pairs as nuscenes-devkit's ``accumulate``; keys that the data cannot honour."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from analysis.agreement import QualitySpec
from analysis.annotations.model import FloatArray
from analysis.compare import Comparator, CompareOptions, Comparison
from analysis.detection3d.curves import MetricCurves, curves
from analysis.detection3d.errors import translation_error
from analysis.exceptions import InvalidSpec
from analysis.matching import MatchOptions
from tests.analysis.references3d import NUSCENES_CLASSES, cuboid_sides, devkit_boxes, devkit_metrics, nuscenes_scene
from tests.utils.docs import dt_object, gt_object, pair

CUBOIDS = MatchOptions(geometry="cuboid3d")
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "specs" / "nuscenes.yaml"


def _box(x: float = 0.0, yaw_deg: float = 0.0, *, z: float = 0.75, height: float = 1.5) -> FloatArray:
    """A 4 m × 2 m car footprint at ``(x, 0)``."""
    return np.array([x, 0.0, z, 4.0, 2.0, height, math.radians(yaw_deg)])


def _compare(gts: list[Any], dts: list[Any], spec: Any, matching: MatchOptions = CUBOIDS) -> Comparison:
    automation, manual = cuboid_sides([gts], [dts])
    options = CompareOptions(matching, QualitySpec.from_mapping(spec, "spec.yaml"))
    return Comparator(options).calculate(automation, manual)


def _accepted(gt_box: FloatArray, dt_box: FloatArray, spec: Any) -> bool:
    return bool(_compare([(gt_box, 0)], [(dt_box, 0, 0.9)], spec).frames.accepted[0])


CENTRE = {"match": "centre"}


@pytest.mark.parametrize(
    ("case", "gt_box", "dt_box", "spec", "expected"),
    [
        ("the same cuboid", _box(), _box(), None, True),
        ("heading 30° off, limit 30°", _box(), _box(yaw_deg=30), {"max_yaw_error": 30}, True),
        ("heading 30.000001° off, limit 30°", _box(), _box(yaw_deg=30.000001), {"max_yaw_error": 30}, False),
        ("heading 30° off the other way, limit 30°", _box(), _box(yaw_deg=-30), {"max_yaw_error": 30}, True),
        ("turned round: IoU 1, no yaw limit", _box(), _box(yaw_deg=180), None, True),
        ("turned round: IoU 1, limit 90°", _box(), _box(yaw_deg=180), {"max_yaw_error": 90}, False),
        ("179° and -179° are 2° apart", _box(yaw_deg=179), _box(yaw_deg=-179), {"max_yaw_error": 5}, True),
        (
            "a yaw limit of another class",
            _box(),
            _box(yaw_deg=30),
            {"classes": {"pedestrian": {"max_yaw_error": 10}}},
            True,
        ),
        ("a yaw limit of its class", _box(), _box(yaw_deg=30), {"classes": {"car": {"max_yaw_error": 10}}}, False),
        (
            "half the height: 3D IoU 0.5 < min_iou",
            _box(z=1.0, height=2.0),
            _box(z=0.5, height=1.0),
            {"min_iou": 0.7},
            False,
        ),
        (
            "half the height: BEV IoU 1",
            _box(z=1.0, height=2.0),
            _box(z=0.5, height=1.0),
            {"min_iou": 0.7, "overlap": "bev"},
            True,
        ),
        ("1.5 m off: IoU 5/11, no IoU match", _box(), _box(1.5), None, False),
        ("1.5 m off: centre match within 2 m", _box(), _box(1.5), CENTRE, True),
        ("1.5 m off: centre, limit 1 m", _box(), _box(1.5), {**CENTRE, "max_distance": 1.0}, False),
        (
            "1.5 m off: centre, limit 1 m for its class",
            _box(),
            _box(1.5),
            {**CENTRE, "classes": {"car": {"max_distance": 1.0}}},
            False,
        ),
        (
            "1.5 m off: centre, limit 1 m for another class",
            _box(),
            _box(1.5),
            {**CENTRE, "classes": {"pedestrian": {"max_distance": 1.0}}},
            True,
        ),
        ("2 m off: centre at the limit is no match", _box(), _box(2.0), CENTRE, False),
        ("2 m off: a miss and an extra allowed", _box(), _box(2.0), {**CENTRE, "max_missed": 1, "max_extra": 1}, True),
        ("centre match, heading beyond its limit", _box(), _box(0.5, 30), {**CENTRE, "max_yaw_error": 10}, False),
        ("centre match, heading within its limit", _box(), _box(0.5, 30), {**CENTRE, "max_yaw_error": 45}, True),
    ],
)
def test_acceptance_table(case: str, gt_box: FloatArray, dt_box: FloatArray, spec: Any, expected: bool) -> None:
    assert _accepted(gt_box, dt_box, spec) is expected, case


@pytest.mark.parametrize(("overlap", "iou"), [("3d", 0.5), ("bev", 1.0)])
def test_the_overlap_key_picks_the_iou_matches_report(overlap: str, iou: float) -> None:
    result = _compare([(_box(z=1.0, height=2.0), 0)], [(_box(z=0.5, height=1.0), 0, 0.9)], {"overlap": overlap})
    assert result.matches.iou.tolist() == pytest.approx([iou])


def test_a_centre_match_reads_no_iou_and_reports_it() -> None:
    result = _compare([(_box(), 0)], [(_box(1.5), 0, 0.9)], CENTRE)
    assert result.matches.iou.tolist() == pytest.approx([5 / 11])  # below min_iou's 0.5: not read
    assert result.frames.poor_iou.tolist() == [0] and result.frames.accepted.tolist() == [True]


def test_leftovers_of_centre_matching_are_confused_by_distance() -> None:
    """A car labelled pedestrian 1.5 m away: no IoU match, but a class confusion under centre matching."""
    gts, dts = [(_box(), 0)], [(_box(1.5), 1, 0.9)]
    assert _compare(gts, dts, CENTRE).frames.class_confused.tolist() == [1]
    assert _compare(gts, dts, None).frames.class_confused.tolist() == [0]


@pytest.mark.parametrize(
    ("seed", "distances"),
    [
        (11, dict.fromkeys(NUSCENES_CLASSES, 1.0)),
        (12, dict.fromkeys(NUSCENES_CLASSES, 2.0)),
        (13, {"car": 4.0, "pedestrian": 0.5, "barrier": 1.0, "traffic_cone": 2.0}),
    ],
)
def test_centre_matching_under_a_spec_pairs_as_the_devkit(seed: int, distances: dict[str, float]) -> None:
    """Per class, which detections match (precision and recall in score order) and to which manual
    object (translation error) equal nuscenes-devkit's ``accumulate`` at the class's ``max_distance``."""
    frames, detections = nuscenes_scene(seed, 60)
    automation, manual = cuboid_sides(frames, detections)
    spec = {**CENTRE, "classes": {name: {"max_distance": d} for name, d in distances.items()}}
    matches = (
        Comparator(CompareOptions(CUBOIDS, QualitySpec.from_mapping(spec, "spec.yaml")))
        .calculate(automation, manual)
        .matches
    )
    dt, gt = automation.objects, manual.objects
    trans = np.zeros(len(dt))
    trans[matches.dt] = translation_error(
        dt.geometry["cuboid3d"]["box"][matches.dt], gt.geometry["cuboid3d"]["box"][matches.gt]
    )
    gt_boxes = devkit_boxes(frames, None)
    pred = devkit_boxes([[(b, c) for b, c, _ in f] for f in detections], [[s for *_, s in f] for f in detections])
    for c, name in enumerate(NUSCENES_CLASSES):
        mine = dt.category == c
        errors = {e: trans[mine] for e in ("trans_err", "scale_err", "orient_err")}
        ours = curves(dt.score[mine], matches.dt_matched[mine], errors, int((gt.category == c).sum()))
        _assert_same_matching(ours, devkit_metrics(gt_boxes, pred, name, distances[name]))


def _assert_same_matching(ours: MetricCurves, theirs: Any) -> None:
    for field in ("recall", "precision", "confidence"):
        np.testing.assert_allclose(getattr(ours, field), getattr(theirs, field), rtol=0, atol=1e-9, err_msg=field)
    np.testing.assert_allclose(ours.errors["trans_err"], theirs.trans_err, rtol=0, atol=1e-9, err_msg="trans_err")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"max_yaw_error": 10},
            "spec.yaml: max_yaw_error: needs objects with headings (cuboid3d); these are compared as box2d",
        ),
        (
            {"classes": {"car": {"max_yaw_error": 10}}},
            "spec.yaml: classes.car.max_yaw_error: needs objects with headings",
        ),
        ({"match": "centre"}, "spec.yaml: match: needs objects with centres (cuboid3d); these are compared as box2d"),
        ({"overlap": "bev"}, "spec.yaml: overlap: needs objects with a bird's-eye-view overlap (cuboid3d)"),
        ({"max_yaw_error": 180, "overlap": "3d"}, None),  # the defaults: nothing to honour
    ],
)
def test_cuboid_keys_on_boxes_are_refused_naming_the_key(spec: Any, message: str | None) -> None:
    automation, manual = pair([gt_object(1, [0, 0, 10, 10])], [dt_object([0, 0, 10, 10])])
    comparator = Comparator(CompareOptions(spec=QualitySpec.from_mapping(spec, "spec.yaml")))
    if message is None:
        assert comparator.calculate(automation, manual).frames.accepted.tolist() == [True]
        return
    with pytest.raises(InvalidSpec) as info:
        comparator.calculate(automation, manual)
    assert str(info.value).startswith(message)


def test_centre_matching_contradicts_coco_matching() -> None:
    with pytest.raises(InvalidSpec, match=r"spec.yaml: match: centre contradicts the comparison's coco matching"):
        _compare([(_box(), 0)], [(_box(), 0, 0.9)], CENTRE, MatchOptions(method="coco", geometry="cuboid3d"))


def test_the_example_spec_reads_and_judges_cuboids() -> None:
    doc = yaml.safe_load(EXAMPLE.read_text())
    spec = QualitySpec.from_mapping(doc, str(EXAMPLE))
    assert spec.match == "centre" and QualitySpec.from_mapping(spec.to_mapping(), "again") == spec
    automation, manual = cuboid_sides([[(_box(), 0)]], [[(_box(0.3, 5), 0, 0.9)]])
    assert Comparator(CompareOptions(CUBOIDS, spec)).calculate(automation, manual).frames.accepted.tolist() == [True]
