"""Quality spec files: defaults, overrides, and rejection of what they cannot mean."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

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
        ({"match": "center"}, "match"),
        ({"overlap": "2d"}, "overlap"),
        ({"max_distance": 1.0}, "max_distance"),
        ({"match": "centre", "max_distance": 0}, "max_distance"),
        ({"match": "centre", "min_iou": 0.5}, "min_iou"),
        ({"match": "centre", "classes": {"car": {"min_iou": 0.5}}}, "classes.car.min_iou"),
        ({"max_yaw_error": 181}, "max_yaw_error"),
        ({"classes": {"car": {"max_yaw_error": -1}}}, "classes.car.max_yaw_error"),
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


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"match": "center"}, "match: must be one of iou, centre, got 'center'"),
        ({"overlap": "2d"}, "overlap: must be one of 3d, bev, got '2d'"),
        (
            {"max_distance": 1.0},
            "max_distance: not read with match: iou (a match is localised by min_iou and max_yaw_error there)",
        ),
        (
            {"match": "centre", "classes": {"car": {"min_iou": 0.5}}},
            "classes.car.min_iou: not read with match: centre (a match is localised by max_distance and max_yaw_error "
            "there)",
        ),
        ({"max_yaw_error": 181}, "max_yaw_error: must be <= 180.0, got 181"),
    ],
)
def test_cuboid_key_errors_say_why(doc: Any, message: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        QualitySpec.from_mapping(doc, "s.yaml")
    assert str(info.value) == f"s.yaml: {message}"


def test_cuboid_keys_default_to_todays_behaviour_and_inherit_like_the_others() -> None:
    spec = QualitySpec.from_mapping(
        {"match": "centre", "max_distance": 1.0, "max_yaw_error": 30, "classes": {"pedestrian": {"max_distance": 0.5}}},
        "s.yaml",
    )
    assert (QualitySpec().match, QualitySpec().overlap) == ("iou", "3d")
    assert (ClassRule().max_distance, ClassRule().max_yaw_error) == (2.0, 180.0)
    rules = spec.resolve(CATS)
    assert rules.max_distance.tolist() == [1.0, 0.5] and rules.max_yaw_error.tolist() == [30.0, 30.0]


ROUND_TRIPS = [
    {},
    {
        "min_iou": 0.6,
        "min_height": 12,
        "max_missed": 1,
        "attributes": ["occluded"],
        "tags": ["weather"],
        "classes": {"pedestrian": {"min_iou": 0.7}},
    },
    {"overlap": "bev", "min_iou": 0.6, "classes": {"car": {"max_yaw_error": 45}}},
    {
        "match": "centre",
        "max_distance": 1.0,
        "max_yaw_error": 30,
        "overlap": "bev",
        "classes": {"pedestrian": {"max_distance": 0.5, "max_yaw_error": 180}},
    },
    {"match": "centre", "classes": {"car": {"min_area": 2.0}}},
]


@pytest.mark.parametrize("doc", ROUND_TRIPS)
def test_to_mapping_is_the_inverse_of_from_mapping(doc: dict[str, Any]) -> None:
    spec = QualitySpec.from_mapping(doc, "s.yaml")
    written = spec.to_mapping()
    assert QualitySpec.from_mapping(written, "again") == spec
    assert QualitySpec.from_mapping(yaml.safe_load(yaml.safe_dump(written)), "again") == spec
    assert QualitySpec.from_mapping(doc, "s.yaml").to_mapping() == written


def test_a_box_spec_is_written_with_the_keys_it_always_had() -> None:
    written = QualitySpec.from_mapping(ROUND_TRIPS[1], "s.yaml").to_mapping()
    assert set(written) == {
        "min_iou",
        "min_area",
        "min_height",
        "max_missed",
        "max_extra",
        "attributes",
        "tags",
        "classes",
    }
    assert set(written["classes"]["pedestrian"]) == {"min_iou", "min_area", "min_height"}


def test_each_way_of_matching_writes_its_own_localisation_keys() -> None:
    centre = QualitySpec.from_mapping(ROUND_TRIPS[3], "s.yaml").to_mapping()
    assert centre["match"] == "centre" and "min_iou" not in centre and centre["max_distance"] == 1.0
    assert centre["classes"]["pedestrian"]["max_yaw_error"] == 180.0
    assert "max_distance" not in QualitySpec.from_mapping(ROUND_TRIPS[2], "s.yaml").to_mapping()


def test_a_spec_built_in_code_is_checked_too() -> None:
    with pytest.raises(InvalidSpec, match=r"s.yaml: match: must be one of iou, centre, got 'nearest'"):
        QualitySpec(match="nearest", source="s.yaml")
