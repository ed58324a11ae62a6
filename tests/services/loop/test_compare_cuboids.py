"""The compare step on cuboid messages under the 3D dataset's spec (nuScenes' centre matching): machine and
consensus comparisons judge as the analysis comparator does, and a batch without any object is a cuboid batch."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from services.datasets.profiles import DRIVING3D
from services.loop.compare import compare_machine, compare_people
from services.loop.context import CompareContext
from services.loop.messages import AutomationMessage, ManualAnnotation, decode
from tests.services.loop.messages.samples import sample

CTX = CompareContext.of(DRIVING3D)


def _cuboid(x: float, y: float = 0.0, yaw: float = 0.0, length: float = 4.4) -> dict[str, Any]:
    return {"type": "cuboid3d", "centre": [x, y, 0.8], "size": [length, 1.8, 1.5], "yaw": yaw,
            "frame": "vehicle-iso8855"}


def _person(fid: str, objects: list[tuple[dict[str, Any], int]], copy: int = 1) -> ManualAnnotation:
    return decode(ManualAnnotation, orjson.dumps(sample(
        "manual-annotations", frame_id=fid, task_id=f"{fid}/{copy}", copy=copy, consensus_prob=0.2,
        tags={"weather": "rain"},
        objects=[{"geometry": g, "category_id": c, "attributes": {}} for g, c in objects])))


def _machine(fid: str, objects: list[tuple[dict[str, Any], int, float]]) -> AutomationMessage:
    return decode(AutomationMessage, orjson.dumps(sample(
        "automation-results", frame_id=fid, geometries=[g for g, _, _ in objects],
        category_ids=[c for _, c, _ in objects], scores=[s for *_, s in objects])))


CAR, PEDESTRIAN = 1, 2
PEOPLE = [(_cuboid(20.0), CAR), (_cuboid(30.0, 4.0, length=0.7), PEDESTRIAN)]
CASES = [  # the machine's cuboids -> accepted, tp, fp, fn: the spec allows 1 miss, 1 extra; 2 m for cars, 1 m else
    ([(_cuboid(21.5), CAR, 0.9), (_cuboid(30.5, 4.0, length=0.7), PEDESTRIAN, 0.8)], (True, 2, 0, 0)),
    ([(_cuboid(22.5), CAR, 0.9), (_cuboid(31.5, 4.0, length=0.7), PEDESTRIAN, 0.8)], (False, 0, 2, 2)),
    ([(_cuboid(20.0, yaw=math.pi), CAR, 0.9)], (False, 1, 0, 1)),  # facing the other way: poorly localised
    ([(_cuboid(30.0, 4.0, yaw=math.pi, length=0.7), PEDESTRIAN, 0.9)], (True, 1, 0, 1)),  # a pedestrian's heading
    ([(_cuboid(20.0), CAR, 0.9), (_cuboid(40.0), CAR, 0.2)], (True, 1, 1, 1)),
    ([], (False, 0, 0, 2)),
]


@pytest.mark.parametrize(("machine", "expected"), CASES)
def test_a_cuboid_frame_is_judged_by_the_3d_spec(machine: list[Any], expected: tuple[Any, ...]) -> None:
    (c,) = compare_machine([(_machine("f-1", machine), _person("f-1", PEOPLE))], CTX)
    assert (c.accepted, c.tp, c.fp, c.fn) == expected


def test_a_consensus_copy_is_matched_by_centre_though_people_give_no_scores() -> None:
    other = _person("f-1", [(_cuboid(20.6), CAR), (_cuboid(30.2, 4.3, length=0.7), PEDESTRIAN)], copy=2)
    (c,) = compare_people([(other, _person("f-1", PEOPLE))], CTX)
    assert (c.kind, c.accepted, c.tp, c.fp, c.fn) == ("consensus", True, 2, 0, 0)


def test_frames_without_any_cuboid_are_compared_as_cuboid_frames() -> None:
    """Nothing drawn on either side: accepted, though the 3D spec refuses to judge boxes."""
    (c,) = compare_machine([(_machine("f-2", []), _person("f-2", []))], CTX)
    (h,) = compare_people([(_person("f-2", [], copy=2), _person("f-2", []))], CTX)
    assert (c.accepted, c.tp, c.fp, c.fn, h.accepted) == (True, 0, 0, 0, True)
