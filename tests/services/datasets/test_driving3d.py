"""Synthetic LiDAR scenes: determinism, points on the surfaces they hit, occlusion, falloff, plausible labels."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter

import numpy as np
import pytest
from scipy.stats import spearmanr

from services.datasets import driving
from services.datasets.driving3d import (
    CATEGORIES,
    LIDAR,
    TIME_OF_DAY,
    WEATHER,
    LidarFrame,
    LidarLabels,
    label_frame,
    points_in_cuboid,
    render_frame,
    render_scene,
)
from services.datasets.driving3d.lidar import GROUND, SPURIOUS, SPURIOUS_RANGE
from services.datasets.driving3d.occupancy import overlap
from services.datasets.driving3d.placement import sample_scene
from services.datasets.driving3d.scene import Conditions, Road, Scene, Thing
from services.datasets.driving3d.things import block, make_object

FRAMES = 150  # about 3 s: enough objects for the falloff and class counts
SURFACE = 4 * LIDAR.noise + 1e-4  # range noise is clipped at 4 sigma; float32 rounding
CLEAR = Conditions("clear", "night", dropout=0.0, visibility=1e9, spurious=0.0)
ROAD = Road(2, 3.5, -1.75, 1, 3.0, (False, False), (False, False), None, 10.0)


@pytest.fixture(scope="module")
def frames() -> list[LidarFrame]:
    return [render_frame(0, i) for i in range(24)]


@pytest.fixture(scope="module")
def labels() -> list[LidarLabels]:
    return [label_frame(1, i) for i in range(FRAMES)]


def test_same_seed_and_frame_give_identical_points_and_labels() -> None:
    for i in range(3):
        a, b = render_frame(11, i), render_frame(11, i)
        assert a.points.dtype == np.float32 and a.points.shape[1] == 4
        assert a.points.tobytes() == b.points.tobytes() and np.array_equal(a.owner, b.owner)
        assert a.labels == b.labels


def test_a_frame_alone_equals_it_in_sequence_and_other_seeds_differ() -> None:
    in_order = [render_frame(4, i) for i in range(4)]
    for i in (3, 1, 0):
        assert render_frame(4, i).points.tobytes() == in_order[i].points.tobytes()
    assert render_frame(5, 0).points.tobytes() != in_order[0].points.tobytes()
    assert in_order[1].points.tobytes() != in_order[0].points.tobytes()


def test_frames_hold_ten_to_thirty_thousand_points_with_intensities_in_0_1(frames: list[LidarFrame]) -> None:
    for frame in frames:
        assert 10_000 <= len(frame.points) <= 30_000
        assert frame.points[:, 3].min() >= 0 and frame.points[:, 3].max() <= 1
        assert np.isfinite(frame.points).all()


def test_ground_points_lie_on_the_ground_within_the_noise(frames: list[LidarFrame]) -> None:
    for frame in frames:
        ground = frame.points[frame.owner == GROUND]
        assert len(ground) > 5000 and np.abs(ground[:, 2]).max() <= SURFACE


def test_every_point_of_a_thing_lies_in_its_cuboid_grown_by_the_noise(frames: list[LidarFrame]) -> None:
    for i, frame in enumerate(frames):
        scene = sample_scene(0, i)
        for k, thing in enumerate(scene.things):
            mine = frame.points[frame.owner == k]
            assert points_in_cuboid(mine, _grown(thing.cuboid, SURFACE)).all(), (i, k, thing.kind)


def test_spurious_returns_are_near_and_only_in_rain_and_fog(frames: list[LidarFrame]) -> None:
    for i, frame in enumerate(frames):
        near = frame.points[frame.owner == SPURIOUS]
        lidar_range = np.linalg.norm(near[:, :3] - [0, 0, LIDAR.height], axis=1)
        assert (lidar_range >= SPURIOUS_RANGE[0] - 1e-4).all() and (lidar_range <= SPURIOUS_RANGE[1] + 1e-4).all()
        assert len(near) == 0 or sample_scene(0, i).conditions.weather in ("rain", "fog")


def test_rain_and_fog_lose_more_returns_and_add_near_ones() -> None:
    scene = sample_scene(2, 0)
    counts = {}
    for weather in WEATHER:
        conditions = {"clear": (0.02, 260.0, 0.0), "rain": (0.07, 130.0, 40.0), "fog": (0.1, 60.0, 120.0)}[weather]
        swept = render_scene(_with(scene, Conditions(weather, "night", *conditions)), np.random.default_rng(0))
        counts[weather] = (len(swept.points), int(np.count_nonzero(swept.owner == SPURIOUS)))
    assert counts["clear"][0] > counts["rain"][0] > counts["fog"][0]
    assert counts["clear"][1] == 0 < counts["rain"][1] < counts["fog"][1]


def test_an_object_behind_a_larger_one_gets_fewer_or_no_points() -> None:
    pedestrian = make_object("pedestrian", (20.0, 0.0), 0.3, (0.6, 0.6, 1.75))
    car = make_object("car", (12.0, 0.0), 0.0, (4.5, 1.9, 1.5))
    van = block("trailer", (12.0, 0.0), 0.0, (5.5, 2.2, 3.0), 0.4)
    alone = _points_of(_scene((pedestrian,), ()))
    behind_car = _points_of(_scene((pedestrian, car), ()))
    behind_van = _points_of(_scene((pedestrian,), (van,)))
    assert alone[0] > 20 and 0 < behind_car[0] < alone[0] / 2 and behind_van[0] == 0
    assert behind_car[1] > 100  # the car itself is seen
    labelled = render_scene(_scene((pedestrian,), (van,)), np.random.default_rng(0)).labels
    assert labelled.objects == ()  # nobody can label what the sensor did not see


def test_points_per_object_fall_with_range(labels: list[LidarLabels]) -> None:
    objects = [o for f in labels for o in f.objects]
    distance = np.array([o.distance for o in objects])
    points = np.array([o.num_points for o in objects])
    assert spearmanr(distance, points).statistic < -0.6
    medians = [np.median(points[(distance >= lo) & (distance < lo + 15)]) for lo in (0, 15, 30, 45)]
    assert medians == sorted(medians, reverse=True) and medians[0] > 10 * medians[-1]


def test_labelled_objects_are_exactly_those_with_points_in_their_cuboid(frames: list[LidarFrame]) -> None:
    for i, frame in enumerate(frames):
        seen = {o.cuboid: o.num_points for o in frame.labels.objects}
        for thing in sample_scene(0, i).objects:
            inside = int(np.count_nonzero(points_in_cuboid(frame.points, thing.cuboid)))
            assert seen.get(thing.cuboid, 0) == inside
        assert all(n >= 1 for n in seen.values())


def test_classes_sizes_and_counts_are_plausible(labels: list[LidarLabels]) -> None:
    per_frame = [len(f.objects) for f in labels]
    assert max(per_frame) <= 15 and 4 <= np.mean(per_frame) <= 10 and min(per_frame) <= 2
    classes = Counter(o.category for f in labels for o in f.objects)
    assert set(classes) == set(CATEGORIES) and classes["car"] > classes["pedestrian"] > classes["cyclist"] > 50
    for o in (o for f in labels for o in f.objects):
        length, width, height = o.size
        assert {
            "car": 3.8 <= length <= 4.9 and 1.7 <= width <= 2.0 and 1.4 <= height <= 1.8,
            "pedestrian": length <= 0.8 and width <= 0.8 and 1.5 <= height <= 1.9,
            "cyclist": 1.6 <= length <= 1.9 and width <= 0.8,
        }[o.category]
        assert o.centre[2] == pytest.approx(height / 2) and o.distance < 62 and -np.pi <= o.yaw <= np.pi


def test_cars_and_cyclists_mostly_head_along_the_road(labels: list[LidarLabels]) -> None:
    for category in ("car", "cyclist"):
        yaws = np.array([o.yaw for f in labels for o in f.objects if o.category == category])
        along = np.minimum(np.abs(np.sin(yaws)), 1.0) < 0.2
        assert 0.75 < along.mean() < 1.0  # some cross at junctions


def test_tags_take_the_2d_sets_values(labels: list[LidarLabels]) -> None:
    assert (WEATHER, TIME_OF_DAY) == (driving.WEATHER, driving.TIME_OF_DAY)
    assert {f.tags["weather"] for f in labels} == set(WEATHER)
    assert {f.tags["time_of_day"] for f in labels} == set(TIME_OF_DAY)


def test_footprints_never_overlap() -> None:
    for i in range(30):
        things = sample_scene(3, i).things
        rects = [(t.cuboid[0], t.cuboid[1], t.cuboid[3], t.cuboid[4], t.cuboid[6]) for t in things]
        assert not any(overlap(a, b) for a, b in itertools.combinations(rects, 2))


def _grown(cuboid: tuple[float, ...], by: float) -> tuple[float, ...]:
    x, y, z, length, width, height, yaw = cuboid
    return x, y, z, length + 2 * by, width + 2 * by, height + 2 * by, yaw


def _with(scene: Scene, conditions: Conditions) -> Scene:
    return dataclasses.replace(scene, conditions=conditions)


def _scene(objects: tuple[Thing, ...], clutter: tuple[Thing, ...]) -> Scene:
    return Scene(0, ROAD, CLEAR, objects, clutter)


def _points_of(scene: Scene) -> list[int]:
    """How many returns each thing of ``scene`` gives, in ``scene.things`` order."""
    owner = render_scene(scene, np.random.default_rng(0)).owner
    return [int(np.count_nonzero(owner == k)) for k in range(len(scene.things))]
