"""Simulated people drawing cuboids: misses by point count, range-dependent centre error, heading flips of sparse
objects, rare extras, and the same drawing offline (replay) as online (the streaming and API people)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from services.datasets.driving3d.records import categories
from services.engine.frame_refs import driving3d_ref
from services.engine.sources import open_source
from services.loop.messages import AnnotatedObject, ManualTask, task_id
from services.replay.annotators import HumanErrorModel, annotate_document, annotate_frame, annotator_rng
from services.replay.truth import truth_document
from services.tools.annotators import annotate_task

NAMES = {c["id"]: c["name"] for c in categories()}
IDS = {name: cid for cid, name in NAMES.items()}
QUIET = HumanErrorModel(miss_tiny=0.0, miss_small=0.0, miss_other=0.0, class_confusion=0.0, tag_error=0.0,
                        yaw_flip=0.0, extra=0.0)


def _cuboid(x: float, points: int, y: float = 0.0, yaw: float = 0.3, category: int = 1) -> dict[str, Any]:
    return {"category_id": category, "attributes": {"num_points": points},
            "geometry": {"type": "cuboid3d", "centre": [x, y, 0.8], "size": [4.4, 1.8, 1.5], "yaw": yaw,
                         "frame": "vehicle-iso8855"}}


def _draw(objects: list[dict[str, Any]], model: HumanErrorModel, frames: int) -> list[list[dict[str, Any]]]:
    return [annotate_frame(objects, {}, model=model, rng=annotator_rng(0, f, 1), names=NAMES, ids=IDS,
                           tag_values={})[0] for f in range(frames)]


@pytest.mark.parametrize(("points", "miss"), [(2, 0.25), (4, 0.25), (5, 0.02), (14, 0.02), (15, 0.003), (400, 0.003)])
def test_a_cuboid_is_missed_as_often_as_a_box_of_its_visibility(points: int, miss: float) -> None:
    drawn = _draw([_cuboid(20.0, points)] * 50, HumanErrorModel(extra=0.0), 80)
    missed = 1.0 - sum(len(f) for f in drawn) / (50 * 80)
    assert missed == pytest.approx(miss, abs=max(0.03, 3 * math.sqrt(miss * (1 - miss) / 4000)))


@pytest.mark.parametrize(("x", "sd"), [(5.0, 0.05 + 0.004 * 5), (50.0, 0.05 + 0.004 * 50)])
def test_the_centre_errs_more_with_range(x: float, sd: float) -> None:
    drawn = [o for f in _draw([_cuboid(x, 300)] * 40, QUIET, 50) for o in f]
    errors = np.array([o["geometry"]["centre"][:2] for o in drawn]) - [x, 0.0]
    assert errors.std(axis=0) == pytest.approx([sd, sd], rel=0.1)
    sizes = np.array([o["geometry"]["size"] for o in drawn]) / [4.4, 1.8, 1.5] - 1.0
    assert sizes.std(axis=0) == pytest.approx([0.03] * 3, rel=0.1)


@pytest.mark.parametrize(("points", "flips"), [(3, 0.5), (14, 0.5), (15, 0.0), (300, 0.0)])
def test_only_a_sparse_cuboid_is_drawn_facing_the_other_way(points: int, flips: float) -> None:
    drawn = [o for f in _draw([_cuboid(30.0, points)] * 40, replace(QUIET, yaw_flip=0.5), 50) for o in f]
    turned = np.abs(np.array([math.remainder(o["geometry"]["yaw"] - 0.3, 2 * math.pi) for o in drawn])) > 1.0
    assert turned.mean() == pytest.approx(flips, abs=0.05)


@pytest.mark.parametrize(("rate", "frames_with_extra"), [(0.0, 0.0), (0.01, 0.01), (1.0, 1.0)])
def test_a_person_now_and_then_draws_a_car_around_clutter(rate: float, frames_with_extra: float) -> None:
    drawn = _draw([_cuboid(20.0, 300)], replace(QUIET, extra=rate), 2000)
    extra = np.array([len(f) - 1 for f in drawn])
    assert set(extra.tolist()) <= {0, 1} and extra.mean() == pytest.approx(frames_with_extra, abs=0.01)
    for f in drawn:
        for o in f[1:]:
            x, y, _ = o["geometry"]["centre"]
            assert o["category_id"] == IDS["car"] and 6.0 <= math.hypot(x, y) <= 45.0 and abs(math.atan2(y, x)) < 1.0


def test_every_drawn_cuboid_is_a_valid_geometry_in_the_truths_coordinate_system() -> None:
    sloppy = HumanErrorModel(box_jitter=0.5, centre_jitter=1.0, extra=0.5)
    for frame in _draw([_cuboid(40.0, 3, y=5.0, category=k) for k in (1, 2, 3)] * 5, sloppy, 40):
        for record in frame:
            obj = AnnotatedObject.model_validate({**record, "attributes": {}})
            assert obj.geometry.kind == "cuboid3d" and obj.geometry.value.frame == "vehicle-iso8855"
            assert min(obj.geometry.value.size) > 0 and -math.pi <= obj.geometry.value.yaw <= math.pi


def test_the_replays_people_draw_what_the_streaming_people_draw() -> None:
    """The replay reads the source's OpenLABEL truth, the streaming people each frame's reference: same cuboids."""
    source = open_source("synthetic://driving3d?seed=2&n=6")
    doc = source.ground_truth()
    assert doc is not None
    truth = truth_document(doc, source.name, categories())
    model = replace(HumanErrorModel(), extra=0.3, yaw_flip=0.2)
    for copy in (1, 2):
        offline = annotate_document(truth, seed=9, annotator=copy, model=model)
        for index in range(6):
            task = ManualTask.model_validate({
                "task_id": task_id(f"f{index}", copy), "frame_id": f"f{index}", "seq": index + 1, "copy": copy,
                "image": driving3d_ref(2, index), "inclusion_prob": 1.0, "consensus_prob": 0.0, "policy_version": 0,
                "time": 0.0})
            online = annotate_task(task, seed=9, model=model, people=2, now=0.0)
            expected = [a for a in offline["annotations"] if a["image_id"] == index + 1]
            assert [o.geometry.wire() for o in online.objects] == [a["geometry"] for a in expected]
            real = truth["images"][index]["tags"]
            wrong = [{k for k, v in tags.items() if v != real[k]}
                     for tags in (online.tags, offline["images"][index]["tags"])]
            assert wrong[0] == wrong[1]  # which wrong value a mistake picks follows each side's list of values
