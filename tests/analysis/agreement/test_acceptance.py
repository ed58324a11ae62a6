"""Frame acceptance under a quality spec: one case per line."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from analysis.agreement import QualitySpec
from analysis.compare import Comparator, CompareOptions
from tests.utils.docs import dt_object as dt
from tests.utils.docs import gt_object as gt
from tests.utils.docs import pair

CAR = [10, 10, 40, 20]
PED = [100, 50, 10, 30]
OCC = {"occluded": True}
VIS = {"occluded": False}


def accepted(gts: list[Any], dts: list[Any], spec: dict[str, Any] | None, tags: Any = None) -> bool:
    automation, manual = pair(gts, dts, **({"tags": tags[1]} if tags else {}))
    if tags:
        automation = replace(automation, tags=[tags[0]])
    options = CompareOptions(spec=QualitySpec.from_mapping(spec, "spec.yaml"))
    return bool(Comparator(options).calculate(automation, manual).frames.accepted[0])


@pytest.mark.parametrize(
    ("case", "gts", "dts", "spec", "expected"),
    [
        ("perfect", [gt(1, CAR), gt(2, PED, cat=2)], [dt(CAR), dt(PED, cat=2)], None, True),
        ("empty frame", [], [], None, True),
        ("one miss", [gt(1, CAR), gt(2, PED, cat=2)], [dt(CAR)], None, False),
        ("one miss allowed", [gt(1, CAR), gt(2, PED, cat=2)], [dt(CAR)], {"max_missed": 1}, True),
        ("one extra", [gt(1, CAR)], [dt(CAR), dt(PED)], None, False),
        ("one extra allowed", [gt(1, CAR)], [dt(CAR), dt(PED)], {"max_extra": 1}, True),
        ("wrong class is a miss and an extra", [gt(1, CAR)], [dt(CAR, cat=2)],
         {"max_missed": 1}, False),
        ("loose box, default min_iou", [gt(1, CAR)], [dt([10, 10, 40, 14])], None, True),
        ("loose box, strict class", [gt(1, CAR)], [dt([10, 10, 40, 14])],
         {"classes": {"car": {"min_iou": 0.8}}}, False),
        ("loose box, strict other class", [gt(1, CAR)], [dt([10, 10, 40, 14])],
         {"classes": {"pedestrian": {"min_iou": 0.8}}}, True),
        ("tiny miss ignored by min_height", [gt(1, CAR), gt(2, [0, 0, 5, 5])], [dt(CAR)],
         {"min_height": 8}, True),
        ("tiny miss counts without it", [gt(1, CAR), gt(2, [0, 0, 5, 5])], [dt(CAR)], None, False),
        ("tiny extra ignored by min_area", [gt(1, CAR)], [dt(CAR), dt([300, 300, 4, 4])],
         {"min_area": 20}, True),
        ("per-class min_height", [gt(1, CAR), gt(2, [0, 0, 5, 5], cat=2)], [dt(CAR)],
         {"classes": {"pedestrian": {"min_height": 8}}}, True),
        ("required attribute differs", [gt(1, CAR, attributes=OCC)], [dt(CAR, attributes=VIS)],
         {"attributes": ["occluded"]}, False),
        ("unrequired attribute differs", [gt(1, CAR, attributes=OCC)], [dt(CAR, attributes=VIS)],
         None, True),
        ("required attribute missing on machine", [gt(1, CAR, attributes=OCC)], [dt(CAR)],
         {"attributes": ["occluded"]}, False),
        ("crowd absorbs extras", [gt(1, CAR), gt(2, [200, 200, 100, 100], iscrowd=1)],
         [dt(CAR), dt([210, 210, 20, 20]), dt([250, 250, 20, 20])], None, True),
    ],
)
def test_acceptance_table(case: str, gts: list[Any], dts: list[Any], spec: Any, expected: bool) -> None:
    assert accepted(gts, dts, spec) is expected, case


@pytest.mark.parametrize(
    ("machine", "human", "spec", "expected"),
    [
        ({"weather": "rain"}, {"weather": "rain"}, {"tags": ["weather"]}, True),
        ({"weather": "fog"}, {"weather": "rain"}, {"tags": ["weather"]}, False),
        ({"weather": "fog"}, {"weather": "rain"}, None, True),
        ({}, {"weather": "rain"}, {"tags": ["weather"]}, False),
    ],
)
def test_required_tags(machine: dict[str, str], human: dict[str, str], spec: Any, expected: bool) -> None:
    assert accepted([gt(1, CAR)], [dt(CAR)], spec, tags=(machine, human)) is expected
