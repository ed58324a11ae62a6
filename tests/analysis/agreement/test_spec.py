"""Quality spec files: defaults, overrides, and rejection of what they cannot mean."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.agreement import ClassRule, QualitySpec
from analysis.annotations import Categories
from analysis.exceptions import InvalidSpec

CATS = Categories(np.array([1, 2]), ("car", "pedestrian"), ("", ""))


def test_empty_spec_is_the_default() -> None:
    assert QualitySpec.from_mapping(None, "s.yaml") == QualitySpec()
    assert QualitySpec.from_mapping({}, "s.yaml") == QualitySpec()


def test_class_overrides_inherit_top_level_values() -> None:
    spec = QualitySpec.from_mapping(
        {"min_iou": 0.6, "min_height": 5, "classes": {"pedestrian": {"min_iou": 0.7}}}, "s.yaml"
    )
    assert spec.classes["pedestrian"] == ClassRule(min_iou=0.7, min_area=0.0, min_height=5.0)
    rules = spec.resolve(CATS)
    assert rules.min_iou.tolist() == [0.6, 0.7] and rules.min_height.tolist() == [5.0, 5.0]


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"min_iuo": 0.5}, "min_iuo"),
        ({"min_iou": 1.5}, "min_iou"),
        ({"min_iou": 0}, "min_iou"),
        ({"max_missed": -1}, "max_missed"),
        ({"max_extra": 0.5}, "max_extra"),
        ({"attributes": "occluded"}, "attributes"),
        ({"tags": [1]}, "tags[0]"),
        ({"classes": ["car"]}, "classes"),
        ({"classes": {"car": {"min_iou": "high"}}}, "classes.car.min_iou"),
        ({"classes": {"car": {"max_missed": 1}}}, "classes.car"),
        ([1, 2], ""),
    ],
)
def test_malformed_specs_name_the_key(doc: Any, where: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        QualitySpec.from_mapping(doc, "s.yaml")
    assert str(info.value).startswith(f"s.yaml: {where}" if where else "s.yaml")


def test_unknown_class_names_are_rejected_against_the_categories() -> None:
    spec = QualitySpec.from_mapping({"classes": {"truck": {"min_iou": 0.7}}}, "s.yaml")
    with pytest.raises(InvalidSpec, match=r"classes\.truck: unknown class"):
        spec.resolve(CATS, "s.yaml")
