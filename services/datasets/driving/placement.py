"""Where things stand: labelled objects and clutter placed by role (lane, kerb, sidewalk, crossing).

Depths are log-uniform so pixel sizes spread evenly from a few pixels to more
than the image height; footprints on the ground never overlap, so occlusion
comes only from things standing behind one another as seen from the camera.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from services.datasets.driving import palette
from services.datasets.driving.draw import RGB
from services.datasets.driving.scene import (
    Conditions,
    Kind,
    Road,
    Scene,
    Thing,
    sample_blocks,
    sample_camera,
    sample_conditions,
    sample_road,
)

Footprint = tuple[float, float, float, float]  # x0, x1, z0, z1 on the ground
LABELLED: tuple[Kind, ...] = ("car", "pedestrian", "cyclist", "traffic_sign")
CLASS_P = (0.45, 0.25, 0.13, 0.17)
CLUTTER: tuple[Kind, ...] = ("pole", "lamp", "tree", "bush", "bin", "box", "cone")
CLUTTER_P = (0.16, 0.16, 0.2, 0.16, 0.12, 0.1, 0.1)
MEAN_OBJECTS = 11.0
ATTEMPTS = 8


def sample_scene(seed: int, index: int) -> Scene:
    """The scene of frame ``index`` (0-based) of the data set ``seed``."""
    rng = np.random.default_rng([seed, index])
    conditions = sample_conditions(rng)
    camera = sample_camera(rng)
    road = sample_road(rng)
    blocks = sample_blocks(rng, road)
    things = place_things(rng, road, conditions)
    return Scene(index, camera, road, conditions, things, blocks, int(rng.integers(2**62)))


def place_things(rng: np.random.Generator, road: Road, conditions: Conditions) -> tuple[Thing, ...]:
    """Labelled objects (an overdispersed count: some frames empty, some crowded), then clutter."""
    n_objects = int(rng.poisson(rng.gamma(2.5, MEAN_OBJECTS / 2.5)))
    n_clutter = int(rng.poisson(8))
    kinds = [*rng.choice(LABELLED, size=n_objects, p=CLASS_P), *rng.choice(CLUTTER, size=n_clutter, p=CLUTTER_P)]
    taken: list[Footprint] = []
    things: list[Thing] = []
    for kind in kinds:
        for _ in range(ATTEMPTS):
            thing = PLACERS[str(kind)](rng, road, conditions)
            box = footprint(thing)
            if not any(_overlap(box, other) for other in taken):
                taken.append(box)
                things.append(thing)
                break
    return tuple(sorted(things, key=lambda t: -t.z))


def footprint(t: Thing) -> Footprint:
    """The ground area a thing occupies; cars seen from behind or ahead extend away from the camera."""
    if t.kind == "car" and t.variant < 2:
        return t.x - t.width / 2, t.x + t.width / 2, t.z, t.z + 4.4
    depth = 1.9 if t.kind == "car" else max(t.width, 0.5)
    return t.x - t.width / 2 - 0.1, t.x + t.width / 2 + 0.1, t.z, t.z + depth


def _overlap(a: Footprint, b: Footprint) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _side(rng: np.random.Generator, right: float = 0.6) -> int:
    return 1 if rng.random() < right else -1


def _kerb(road: Road, z: float, side: int, beyond: float) -> float:
    """Lateral position ``beyond`` metres outside the road edge on ``side`` (negative: on the road)."""
    return road.centre(z) + side * (road.half_width + beyond)


def place_car(rng: np.random.Generator, road: Road, conditions: Conditions) -> Thing:
    role = str(rng.choice(["ahead", "oncoming", "parked", "crossing"], p=[0.4, 0.25, 0.23, 0.12]))
    if role == "oncoming" and road.lanes < 2:
        role = "ahead"
    z = log_uniform(rng, 3.3 if role == "parked" else 5.5, 110)
    first_ahead = road.lanes // 2 if road.lanes > 1 else 0
    if role == "ahead":
        x, view = road.lane_centre(int(rng.integers(first_ahead, road.lanes)), z), 0
    elif role == "oncoming":
        x, view = road.lane_centre(int(rng.integers(0, first_ahead)), z), 1
    elif role == "parked":
        side = _side(rng, 0.65)
        x, view = _kerb(road, z, side, -1.1), 0 if side > 0 else 1
    else:
        z = max(z, 9.0)
        x, view = road.centre(z) + float(rng.uniform(-road.half_width - 2, road.half_width + 2)), 2
    x += float(rng.normal(0, 0.2))
    van = rng.random() < 0.15
    height = float(rng.uniform(1.8, 2.2) if van else rng.uniform(1.35, 1.6))
    width = float(rng.uniform(3.8, 4.9)) if view == 2 else float(rng.uniform(1.7, 2.0))
    colours = (palette.pick(rng, palette.CAR_PAINTS), palette.pick(rng, (palette.GLASS,), 10))
    lit = role != "parked" and (conditions.lights_on or rng.random() < 0.1)
    return Thing("car", x, z, width, height, colours, view, _side(rng, 0.5), 0.0, lit)


def _person_colours(rng: np.random.Generator) -> tuple[RGB, ...]:
    return (
        palette.pick(rng, palette.SKIN, 8), palette.random_colour(rng), palette.pick(rng, palette.PANTS),
        palette.random_colour(rng, 20, 200),
    )


def place_pedestrian(rng: np.random.Generator, road: Road, conditions: Conditions) -> Thing:
    z = log_uniform(rng, 3.0, 90)
    if rng.random() < 0.22 and z > 5:
        x = road.centre(z) + float(rng.uniform(-road.half_width, road.half_width))
    else:
        x = _kerb(road, z, _side(rng, 0.5), float(rng.uniform(0.4, road.sidewalk - 0.2)))
    child = rng.random() < 0.1
    height = float(rng.uniform(1.0, 1.35) if child else rng.uniform(1.55, 1.95))
    variant = int(rng.integers(3))  # 0 plain, 1 backpack, 2 skirt or coat
    return Thing("pedestrian", x, z, height * 0.3, height, _person_colours(rng), variant,
                 _side(rng, 0.5), float(rng.random()))


def place_cyclist(rng: np.random.Generator, road: Road, conditions: Conditions) -> Thing:
    z = log_uniform(rng, 3.5, 100)
    crossing = rng.random() < 0.15 and z > 6
    if crossing:
        x, view = road.centre(z) + float(rng.uniform(-road.half_width, road.half_width)), float(rng.uniform(0.8, 1))
    else:
        x, view = _kerb(road, z, _side(rng, 0.7), -float(rng.uniform(0.4, 1.1))), float(rng.uniform(0.3, 0.65))
    wheel, base = float(rng.uniform(0.32, 0.36)), float(rng.uniform(1.0, 1.12))
    colours = (*_person_colours(rng), palette.pick(rng, palette.BIKE_FRAMES), palette.random_colour(rng))
    return Thing("cyclist", x, z, view * (base + 2 * wheel), float(rng.uniform(1.65, 1.85)), colours,
                 0, _side(rng, 0.5), view, conditions.lights_on and rng.random() < 0.6)


def place_sign(rng: np.random.Generator, road: Road, conditions: Conditions) -> Thing:
    z = log_uniform(rng, 4.0, 100)
    x = _kerb(road, z, _side(rng, 0.7), float(rng.uniform(0.2, 0.8)))
    size = float(rng.uniform(0.55, 0.9))
    shape = int(rng.integers(4))  # circle, triangle, square, diamond
    return Thing("traffic_sign", x, z, size, float(rng.uniform(1.9, 2.6)) + size, (palette.POLE_GREY,),
                 shape, 1, float(rng.random()))


CLUTTER_SIZES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {  # width and height ranges, metres
    "pole": ((0.12, 0.12), (2.5, 5.5)), "lamp": ((0.16, 0.16), (5.0, 8.0)), "tree": ((2.0, 4.0), (1.6, 2.6)),
    "bush": ((0.8, 2.0), (0.5, 1.3)), "bin": ((0.5, 0.8), (0.8, 1.2)), "box": ((0.4, 0.9), (0.3, 0.8)),
    "cone": ((0.35, 0.35), (0.7, 0.7)),
}


def place_clutter(rng: np.random.Generator, road: Road, conditions: Conditions, kind: Kind) -> Thing:
    """Unlabelled things on the sidewalk or verge that look a little like objects."""
    z = log_uniform(rng, 3.0, 110)
    side = _side(rng, 0.5)
    at_kerb = kind in ("pole", "lamp", "cone")
    beyond = float(rng.uniform(0.15, 0.4)) if at_kerb else float(rng.uniform(0.3, road.sidewalk + 2.5))
    (w0, w1), (h0, h1) = CLUTTER_SIZES[kind]
    width, height = float(rng.uniform(w0, w1)), float(rng.uniform(h0, h1))
    if kind == "tree":
        height *= width  # a crown's height is proportional to its width
    lit = kind == "lamp" and conditions.time_of_day != "day"
    return Thing(kind, _kerb(road, z, side, beyond), z, width, height, _clutter_colours(rng, kind), 0, side,
                 float(rng.random()), lit)


def _clutter_colours(rng: np.random.Generator, kind: Kind) -> tuple[RGB, ...]:
    if kind in ("tree", "bush"):
        return palette.pick(rng, palette.TREE_GREENS, 15), (95.0, 70.0, 50.0)
    if kind == "bin":
        return (palette.pick(rng, palette.BIN_COLOURS),)
    if kind == "box":
        return (palette.pick(rng, ((160.0, 120.0, 75.0),), 20),)
    if kind == "cone":
        return (240.0, 110.0, 20.0), palette.WHITE
    return (palette.pick(rng, (palette.POLE_GREY, (60.0, 62.0, 66.0)), 8),)


def _clutter_placer(kind: Kind) -> Callable[[np.random.Generator, Road, Conditions], Thing]:
    return lambda rng, road, conditions: place_clutter(rng, road, conditions, kind)


PLACERS: dict[str, Callable[[np.random.Generator, Road, Conditions], Thing]] = {
    "car": place_car, "pedestrian": place_pedestrian, "cyclist": place_cyclist, "traffic_sign": place_sign,
    **{kind: _clutter_placer(kind) for kind in CLUTTER},
}
