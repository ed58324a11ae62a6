"""The surfaces of each kind of thing, as upright boxes and vertical cylinders inside its bounding cuboid.

An object's surfaces sit inside its cuboid without filling it (a car's wheels, body and cabin; a
person's body and head; a bicycle and its rider), so its points lie within the cuboid as a real
car's would, not all on the cuboid's faces. Clutter is one box (bush, wall, building, trailer, bin)
or cylinders (pole; tree: trunk and crown).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from services.datasets.driving3d.scene import Thing

Size = tuple[float, float, float]  # length, width, height
LocalBox = tuple[float, float, float, float, float, float]  # along, left, bottom, length, width, height
LocalCylinder = tuple[float, float, float, float, float]  # along, left, bottom, top, radius


def placed(
    kind: str,
    centre: tuple[float, float],
    yaw: float,
    size: Size,
    reflectivity: float,
    boxes: Sequence[LocalBox] = (),
    cylinders: Sequence[LocalCylinder] = (),
) -> Thing:
    """A thing whose cuboid stands on the ground at ``centre`` heading ``yaw``, with parts given in its own frame."""
    x, y = centre
    c, s = math.cos(yaw), math.sin(yaw)
    world_boxes = np.array(
        [(x + c * a - s * b, y + s * a + c * b, z0 + h / 2, ln, w, h, yaw) for a, b, z0, ln, w, h in boxes],
        dtype=np.float64,
    ).reshape(-1, 7)
    world_cylinders = np.array(
        [(x + c * a - s * b, y + s * a + c * b, z0, z1, r) for a, b, z0, z1, r in cylinders], dtype=np.float64
    ).reshape(-1, 5)
    cuboid = (x, y, size[2] / 2, size[0], size[1], size[2], yaw)
    return Thing(kind, cuboid, world_boxes, world_cylinders, reflectivity)


def car(centre: tuple[float, float], yaw: float, size: Size, reflectivity: float) -> Thing:
    """Four wheels, a body from 0.3 m up to 58% of the height, and a cabin on top, set back."""
    ln, w, h = size
    wheels = [(a * 0.31 * ln, b * (w / 2 - 0.12), 0.0, 0.62, 0.2, 0.62) for a in (-1, 1) for b in (-1, 1)]
    body = (0.0, 0.0, 0.3, 0.99 * ln, 0.98 * w, 0.58 * h - 0.3)
    cabin = (-0.06 * ln, 0.0, 0.58 * h, 0.5 * ln, 0.88 * w, 0.41 * h)
    return placed("car", centre, yaw, size, reflectivity, [*wheels, body, cabin])


def pedestrian(centre: tuple[float, float], yaw: float, size: Size, reflectivity: float) -> Thing:
    """A body (legs and torso) up to 85% of the height, and a head."""
    ln, w, h = size
    body = (0.0, 0.0, 0.0, 0.85 * h, 0.3 * min(ln, w))
    head = (0.0, 0.0, 0.86 * h, 0.99 * h, 0.1)
    return placed("pedestrian", centre, yaw, size, reflectivity, cylinders=[body, head])


def cyclist(centre: tuple[float, float], yaw: float, size: Size, reflectivity: float) -> Thing:
    """A bicycle as a thin box about 1 m high, and a rider's legs, torso and head above it."""
    ln, w, h = size
    bike = (0.0, 0.0, 0.0, 0.98 * ln, 0.1, 1.0)
    legs = (0.0, 0.0, 0.3, 0.35, min(0.35, 0.9 * w), 0.3 * h)
    torso = (-0.08 * ln, 0.0, 0.55 * h, 0.42, min(0.42, 0.9 * w), 0.3 * h)
    head = (-0.05 * ln, 0.0, 0.87 * h, 0.99 * h, 0.1)
    return placed("cyclist", centre, yaw, size, reflectivity, [bike, legs, torso], [head])


def block(kind: str, centre: tuple[float, float], yaw: float, size: Size, reflectivity: float) -> Thing:
    """Clutter that is one box filling its cuboid: a bush, wall, building, trailer or bin."""
    return placed(kind, centre, yaw, size, reflectivity, [(0.0, 0.0, 0.0, *size)])


def pole(centre: tuple[float, float], radius: float, height: float, reflectivity: float) -> Thing:
    return placed("pole", centre, 0.0, (2 * radius, 2 * radius, height), reflectivity, (), [(0, 0, 0, height, radius)])


def tree(
    centre: tuple[float, float], trunk: tuple[float, float], crown: tuple[float, float], reflectivity: float
) -> Thing:
    """A trunk (radius, height) under a crown (radius, top height) from the trunk's top up."""
    (r_trunk, h_trunk), (r_crown, top) = trunk, crown
    parts = [(0.0, 0.0, 0.0, h_trunk, r_trunk), (0.0, 0.0, h_trunk, top, r_crown)]
    return placed("tree", centre, 0.0, (2 * r_crown, 2 * r_crown, top), reflectivity, (), parts)


ObjectBuilder = Callable[[tuple[float, float], float, Size, float], Thing]
OBJECTS: dict[str, ObjectBuilder] = {"car": car, "pedestrian": pedestrian, "cyclist": cyclist}


def make_object(kind: str, centre: tuple[float, float], yaw: float, size: Size, reflectivity: float = 0.4) -> Thing:
    """A labelled object of ``kind`` (car, pedestrian or cyclist) standing at ``centre``."""
    return OBJECTS[kind](centre, yaw, size, reflectivity)
