"""Where things stand: labelled objects by role (lane, parked, sidewalk, crossing), then clutter around them.

Objects stand 3 to 60 m ahead. Cars and cyclists head along their lane (or across, at a junction),
pedestrians any way. No two footprints overlap (nor the ego car's), so occlusion comes only from
things standing behind one another as seen from the sensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from services.datasets.driving3d.clutter import sample_clutter
from services.datasets.driving3d.occupancy import Occupancy
from services.datasets.driving3d.scene import (
    SCENE_SALT,
    Conditions,
    Road,
    Scene,
    Thing,
    sample_conditions,
    sample_road,
)
from services.datasets.driving3d.things import Size, make_object

NEAR, FAR = 3.0, 60.0
MAX_OBJECTS = 15
ATTEMPTS = 10
Pose = tuple[float, float, float]  # x, y, yaw
SIZES: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "car": ((3.8, 4.9), (1.7, 2.0), (1.4, 1.8)),
    "pedestrian": ((0.5, 0.8), (0.5, 0.8), (1.5, 1.9)),
    "cyclist": ((1.6, 1.9), (0.5, 0.8), (1.5, 1.9)),
}
REFLECTIVITY = {"car": (0.15, 0.7), "pedestrian": (0.2, 0.45), "cyclist": (0.25, 0.5)}


def sample_scene(seed: int, index: int) -> Scene:
    """The scene of frame ``index`` (0-based) of the data set ``seed``."""
    rng = np.random.default_rng([seed, index, SCENE_SALT])
    conditions = sample_conditions(rng)
    road = sample_road(rng)
    occupied = Occupancy()
    occupied.add(-0.8, 0.0, 4.7, 1.9, 0.0)  # the ego car, the sensor on its roof
    objects = place_objects(rng, road, conditions, occupied)
    return Scene(index, road, conditions, objects, sample_clutter(rng, road, occupied))


def object_counts(rng: np.random.Generator, conditions: Conditions) -> list[str]:
    """The kinds to place: 0-9 cars, 0-6 pedestrians (fewer at night), 0-3 cyclists, at most 15 in all."""
    people = 7 if conditions.time_of_day == "day" else 4
    counts = {"car": rng.integers(0, 10), "pedestrian": rng.integers(0, people), "cyclist": rng.integers(0, 4)}
    kinds = [kind for kind, n in counts.items() for _ in range(int(n))]
    return kinds[:MAX_OBJECTS]


def place_objects(
    rng: np.random.Generator, road: Road, conditions: Conditions, occupied: Occupancy
) -> tuple[Thing, ...]:
    objects = []
    for kind in object_counts(rng, conditions):
        size = _size(rng, kind)
        for _ in range(ATTEMPTS):
            x, y, yaw = POSES[kind](rng, road)
            if occupied.add(x, y, size[0], size[1], yaw, margin=0.3):
                reflectivity = round(float(rng.uniform(*REFLECTIVITY[kind])), 3)
                objects.append(make_object(kind, (x, y), yaw, size, reflectivity))
                break
    return tuple(objects)


def _size(rng: np.random.Generator, kind: str) -> Size:
    (l0, l1), (w0, w1), (h0, h1) = SIZES[kind]
    return _mm(rng.uniform(l0, l1)), _mm(rng.uniform(w0, w1)), _mm(rng.uniform(h0, h1))


def car_pose(rng: np.random.Generator, road: Road) -> Pose:
    """In a lane (mostly), parked at a kerb, or crossing at the junction."""
    role = rng.random()
    if road.junction is not None and role < 0.15:
        return _crossing(rng, road, spread=0.25)
    sides = [s for s in (0, 1) if road.parking[s]]
    if sides and role < 0.4:
        side = sides[int(rng.integers(len(sides)))]
        y = road.kerb(side) - road.outward(side) * 1.15
        heading = (0.0 if side == 0 else math.pi) if rng.random() < 0.8 else (math.pi if side == 0 else 0.0)
        return _x(rng), _mm(y + rng.normal(0, 0.1)), _yaw(heading + rng.normal(0, 0.05))
    lane = int(rng.integers(road.lanes))
    y = road.lane_centre(lane) + rng.normal(0, 0.25)
    return _x(rng), _mm(y), _yaw(road.heading(lane) + rng.normal(0, 0.03))


def pedestrian_pose(rng: np.random.Generator, road: Road) -> Pose:
    """On a sidewalk (mostly) or crossing the road; facing anywhere."""
    if rng.random() < 0.75:
        side = int(rng.integers(2))
        y = road.kerb(side) + road.outward(side) * rng.uniform(0.4, road.sidewalk - 0.3)
    else:
        y = rng.uniform(road.right + 0.5, road.left - 0.5)
    return _x(rng), _mm(y), _yaw(rng.uniform(-math.pi, math.pi))


def cyclist_pose(rng: np.random.Generator, road: Road) -> Pose:
    """Near the road's edge, our way on the right and towards us on the left, or crossing at the junction."""
    if road.junction is not None and rng.random() < 0.2:
        return _crossing(rng, road, spread=0.15)
    if rng.random() < 0.65:
        return _x(rng), _mm(road.right + rng.uniform(0.6, 1.2)), _yaw(rng.normal(0, 0.05))
    return _x(rng), _mm(road.left - rng.uniform(0.6, 1.2)), _yaw(math.pi + rng.normal(0, 0.05))


def _crossing(rng: np.random.Generator, road: Road, spread: float) -> Pose:
    assert road.junction is not None
    x = road.junction + rng.uniform(-0.35, 0.35) * road.junction_width
    y = rng.uniform(-25.0, 25.0)
    heading = math.pi / 2 if x < road.junction else -math.pi / 2  # right-hand traffic on the crossing road
    return _mm(x), _mm(y), _yaw(heading + rng.normal(0, spread * 0.2))


def _x(rng: np.random.Generator) -> float:
    return _mm(rng.uniform(NEAR, FAR))


def _mm(value: float) -> float:
    """Metres rounded to the millimetre, so the ground truth reads cleanly and equals what is cast."""
    return round(float(value), 3)


def _yaw(angle: float) -> float:
    """An angle in [-pi, pi), rounded to 1e-4 rad."""
    return round((float(angle) + math.pi) % (2 * math.pi) - math.pi, 4)


POSES: dict[str, Callable[[np.random.Generator, Road], Pose]] = {
    "car": car_pose,
    "pedestrian": pedestrian_pose,
    "cyclist": cyclist_pose,
}
