"""Synthetic driving scenes: determinism, ground truth that parses and is plausible, and what the pixels show."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from analysis.annotations import parse_ground_truth
from services.datasets.driving import (
    CATEGORIES,
    HEIGHT,
    TIME_OF_DAY,
    WEATHER,
    WIDTH,
    FrameLabels,
    frame_records,
    ground_truth,
    label_frame,
    render_frame,
    render_scene,
)
from services.datasets.driving.placement import sample_scene
from services.datasets.driving.scene import Camera, Conditions, Road, Scene, Thing

FRAMES = 120  # enough for every class and condition to appear (checked below)


@pytest.fixture(scope="module")
def labels() -> list[FrameLabels]:
    return [label_frame(0, i) for i in range(FRAMES)]


@pytest.fixture(scope="module")
def boxes(labels: list[FrameLabels]) -> np.ndarray:
    """All objects as rows: category, x, y, w, h, visibility, truncated, occluded."""
    rows = [(o.category_id, *o.bbox, o.visibility, o.truncated, o.occluded) for f in labels for o in f.objects]
    return np.array(rows, dtype=np.float64)


def test_same_seed_gives_identical_pixels_and_labels() -> None:
    for i in range(4):
        a, b = render_frame(11, i), render_frame(11, i)
        assert a.image.dtype == np.uint8 and a.image.shape == (HEIGHT, WIDTH, 3)
        assert np.array_equal(a.image, b.image)
        assert a.labels == b.labels


def test_another_seed_or_frame_gives_another_picture() -> None:
    base = render_frame(11, 0)
    assert not np.array_equal(base.image, render_frame(12, 0).image)
    assert not np.array_equal(base.image, render_frame(11, 1).image)


def test_a_frame_rendered_alone_equals_it_rendered_in_sequence() -> None:
    in_order = [render_frame(4, i) for i in range(6)]
    for i in (5, 2, 0):  # out of order, each alone
        alone = render_frame(4, i)
        assert np.array_equal(alone.image, in_order[i].image)
        assert alone.labels == in_order[i].labels


def test_labels_without_pixels_equal_the_rendered_labels() -> None:
    for i in range(25):
        assert label_frame(9, i) == render_frame(9, i).labels


def test_ground_truth_parses_as_coco(labels: list[FrameLabels]) -> None:
    doc = ground_truth((frame_records(f) for f in labels), seed=0)
    parsed = parse_ground_truth(doc, "driving")
    assert parsed.categories.names == CATEGORIES
    assert [c["supercategory"] for c in doc["categories"]] == ["road"] * 4
    assert len(parsed.images.ids) == FRAMES and len(doc["annotations"]) == sum(len(f.objects) for f in labels)
    first = doc["images"][0]
    assert first["id"] == 1 and first["file_name"] == "frames/000001.png"
    assert (first["width"], first["height"]) == (WIDTH, HEIGHT)
    assert set(first["tags"]) == {"weather", "time_of_day"}
    ids = [a["id"] for a in doc["annotations"]]
    assert len(set(ids)) == len(ids)
    for a in doc["annotations"]:
        assert a["area"] == pytest.approx(a["bbox"][2] * a["bbox"][3]) and a["iscrowd"] == 0
        assert set(a["attributes"]) == {"occluded", "truncated", "visibility"}


def test_boxes_lie_inside_the_image_and_are_not_degenerate(boxes: np.ndarray) -> None:
    _, x, y, w, h = boxes[:, :5].T
    assert (x >= 0).all() and (y >= 0).all()
    assert (x + w <= WIDTH).all() and (y + h <= HEIGHT).all()
    assert (w >= 1).all() and (h >= 3).all()


def test_attributes_agree_with_visibility(boxes: np.ndarray) -> None:
    visibility, occluded = boxes[:, 5], boxes[:, 7].astype(bool)
    assert ((visibility >= 0.1) & (visibility <= 1.0)).all()
    assert np.array_equal(occluded, visibility < 0.7)


def test_every_class_weather_and_time_of_day_appears(labels: list[FrameLabels], boxes: np.ndarray) -> None:
    classes = Counter(CATEGORIES[int(c) - 1] for c in boxes[:, 0])
    assert set(classes) == set(CATEGORIES)
    assert min(classes.values()) >= 0.05 * len(boxes)
    assert {f.tags["weather"] for f in labels} == set(WEATHER)
    assert {f.tags["time_of_day"] for f in labels} == set(TIME_OF_DAY)


def test_occluded_and_truncated_objects_occur(boxes: np.ndarray) -> None:
    assert 0.1 < boxes[:, 7].mean() < 0.5  # occluded
    assert 0.02 < boxes[:, 6].mean() < 0.25  # truncated
    assert (boxes[:, 5] < 0.3).any()


def test_sizes_range_from_a_few_pixels_to_most_of_the_frame(boxes: np.ndarray) -> None:
    heights = boxes[:, 4]
    assert (heights < 12).mean() > 0.15
    assert (heights > 80).mean() > 0.02
    assert heights.min() <= 5


def test_object_counts_vary_from_nearly_empty_to_crowded(labels: list[FrameLabels]) -> None:
    counts = np.array([len(f.objects) for f in labels])
    assert 4 <= counts.mean() <= 12
    assert (counts <= 2).any() and (counts >= 15).any()


def _scene_with(seed: int, index: int, weather: str, time_of_day: str, haze: float) -> np.ndarray:
    scene = sample_scene(seed, index)
    conditions = dataclasses.replace(
        scene.conditions, weather=weather, time_of_day=time_of_day, haze=haze,
        rain=0.8 if weather == "rain" else 0.0, exposure=1.0,
    )
    return render_scene(dataclasses.replace(scene, conditions=conditions)).image.astype(np.float64)


@pytest.mark.parametrize("index", [0, 3])
def test_conditions_change_the_pixels(index: int) -> None:
    clear = _scene_with(2, index, "clear", "day", 700.0)
    night = _scene_with(2, index, "clear", "night", 700.0)
    fog = _scene_with(2, index, "fog", "day", 25.0)
    rain = _scene_with(2, index, "rain", "day", 150.0)
    dusk = _scene_with(2, index, "clear", "dusk", 700.0)
    assert night.mean() < 0.5 * clear.mean() and night.mean() < dusk.mean() < clear.mean()
    horizon = int(sample_scene(2, index).camera.horizon)
    distance = slice(horizon - 15, horizon + 20)  # fog flattens what is far: the rows around the horizon
    assert fog[distance].std() < 0.7 * clear[distance].std()
    streaks = np.abs(np.diff(rain, axis=1)).mean() - np.abs(np.diff(clear, axis=1)).mean()
    assert streaks > 1.0


# Hand-built scenes: one straight two-lane road, a level camera 1.5 m up with its horizon on row 80.
CAMERA = Camera(focal=300.0, horizon=80.0, height=1.5)
ROAD = Road(lanes=2, lane_width=3.5, ego_x=1.75, curve=0.0, sidewalk=3.0, buildings=False, dash_phase=0.0)
CLEAR = Conditions("clear", "day", haze=700.0, rain=0.0, exposure=1.0)
FOG = Conditions("fog", "day", haze=30.0, rain=0.0, exposure=1.0)
PERSON = ((220.0, 170.0, 130.0), (40.0, 120.0, 200.0), (30.0, 30.0, 40.0), (200.0, 60.0, 60.0))


def car(x: float, z: float, height: float = 1.5) -> Thing:
    return Thing("car", x, z, 1.8, height, ((200.0, 30.0, 30.0), (40.0, 50.0, 60.0)))


def person(x: float, z: float) -> Thing:
    return Thing("pedestrian", x, z, 0.5, 1.75, PERSON)


def sign(x: float, z: float) -> Thing:
    return Thing("traffic_sign", x, z, 0.7, 2.9, ((110.0, 110.0, 110.0),), variant=2)


def tree(x: float, z: float) -> Thing:
    return Thing("tree", x, z, 3.0, 6.0, ((60.0, 110.0, 50.0), (95.0, 70.0, 50.0)))


def objects_of(things: list[Thing], conditions: Conditions = CLEAR) -> list[tuple[str, float, bool, tuple[float, ...]]]:
    """(class, visibility, truncated, bbox) of the labelled objects of a hand-built scene."""
    scene = Scene(0, CAMERA, ROAD, conditions, tuple(sorted(things, key=lambda t: -t.z)), (), 0)
    labels = render_scene(scene).labels
    return [(CATEGORIES[o.category_id - 1], o.visibility, o.truncated, o.bbox) for o in labels.objects]


OCCLUSION_CASES = [
    # id, things, conditions, expected (class, lowest visibility, highest visibility, truncated) far to near
    ("alone in clear view", [car(0, 10)], CLEAR, [("car", 1.0, 1.0, False)]),
    ("hidden behind a van: not labelled", [car(0, 8, height=2.0), person(0, 16)], CLEAR, [("car", 1.0, 1.0, False)]),
    ("half behind a car: occluded", [car(0, 8), person(1.5, 16)], CLEAR,
     [("pedestrian", 0.1, 0.69, False), ("car", 1.0, 1.0, False)]),
    ("behind a tree: clutter hides, is not labelled", [tree(0.5, 8), person(1.0, 14)], CLEAR,
     [("pedestrian", 0.1, 0.69, False)]),
    ("cut by the right border", [car(160 / 37.5, 8)], CLEAR, [("car", 1.0, 1.0, True)]),
    ("cut by the bottom border", [person(0, 2.5)], CLEAR, [("pedestrian", 1.0, 1.0, True)]),
    ("lost in fog: not labelled", [car(0, 100)], FOG, []),
    ("far but clear: labelled", [car(0, 100)], CLEAR, [("car", 1.0, 1.0, False)]),
]


@pytest.mark.parametrize(("things", "conditions", "expected"), [c[1:] for c in OCCLUSION_CASES],
                         ids=[c[0] for c in OCCLUSION_CASES])
def test_visibility_and_truncation_of_hand_built_scenes(
    things: list[Thing], conditions: Conditions, expected: list[tuple[str, float, float, bool]]
) -> None:
    found = objects_of(things, conditions)
    assert [(name, truncated) for name, _, truncated, _ in found] == [(e[0], e[3]) for e in expected]
    for (_, visibility, _, _), (_, low, high, _) in zip(found, expected, strict=True):
        assert low <= visibility <= high


def test_truncated_boxes_end_at_the_border() -> None:
    (_, _, _, (x, _, w, _)), = objects_of([car(160 / 37.5, 8)])
    assert x + w == WIDTH and w == pytest.approx(1.8 * 37.5 / 2, abs=2)
    (_, _, _, (_, y, _, h)), = objects_of([person(0, 2.5)])
    assert y + h == HEIGHT


def test_a_sign_box_holds_the_plate_not_the_pole() -> None:
    (name, _, _, (_, _, w, h)), = objects_of([sign(3, 10)])
    assert name == "traffic_sign"
    assert w == pytest.approx(0.7 * 30, abs=2) and h == pytest.approx(0.7 * 30, abs=2)


def test_a_box_is_tight_around_what_is_drawn() -> None:
    (_, _, _, (x, y, w, h)), = objects_of([car(0, 10)])
    s = 300 / 10
    assert (x, y, w, h) == pytest.approx((160 - 0.9 * s, 80 + 1.5 * s - 1.5 * s, 1.8 * s, 1.5 * s), abs=1.01)
