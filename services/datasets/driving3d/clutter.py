"""Unlabelled things beside the road that return light and hide what stands behind them.

On each side: buildings behind the sidewalk (with gaps, none across a junction) or else a verge with
trees, bushes and low walls; poles along the kerb; bins on the sidewalk; trailers in a parking strip.
Clutter never overlaps an object or another piece of clutter.
"""

from __future__ import annotations

import numpy as np

from services.datasets.driving3d.occupancy import Occupancy
from services.datasets.driving3d.scene import Road, Thing
from services.datasets.driving3d.things import block, pole, tree

START, END = 2.0, 90.0  # x range clutter is placed in (the sensor looks forward over +-60 degrees)


def sample_clutter(rng: np.random.Generator, road: Road, occupied: Occupancy) -> tuple[Thing, ...]:
    things: list[Thing] = []
    for side in (0, 1):
        if road.buildings[side]:
            things += _buildings(rng, road, side, occupied)
        else:
            things += _verge(rng, road, side, occupied)
        things += _poles(rng, road, side, occupied)
        things += _small(rng, road, side, occupied)
    return tuple(things)


def _take(occupied: Occupancy, thing: Thing) -> bool:
    x, y, _, length, width, _, yaw = thing.cuboid
    return occupied.add(x, y, length, width, yaw, margin=0.2)


def _along(rng: np.random.Generator, road: Road, gap: tuple[float, float], margin: float) -> list[float]:
    """Positions along the road from START to END, ``gap`` apart, none within a junction (plus ``margin``)."""
    xs, x = [], START + float(rng.uniform(0, gap[1]))
    while x < END:
        if not road.at_junction(x, margin):
            xs.append(x)
        x += float(rng.uniform(*gap))
    return xs


def _buildings(rng: np.random.Generator, road: Road, side: int, occupied: Occupancy) -> list[Thing]:
    out, behind = [], road.kerb(side) + road.outward(side) * road.sidewalk
    x = START - float(rng.uniform(0, 10))
    while x < END:
        length, depth = float(rng.uniform(8, 40)), float(rng.uniform(6, 15))
        centre = x + length / 2
        clear = road.junction is None or abs(centre - road.junction) > (length + road.junction_width) / 2 + 2
        if clear and rng.random() < 0.85:
            y = behind + road.outward(side) * (float(rng.uniform(0, 2)) + depth / 2)
            building = block(
                "building", (centre, y), 0.0, (length, depth, float(rng.uniform(4, 20))), _r(rng, 0.2, 0.5)
            )
            if _take(occupied, building):
                out.append(building)
        x += length + float(rng.uniform(0, 6))
    return out


def _verge(rng: np.random.Generator, road: Road, side: int, occupied: Occupancy) -> list[Thing]:
    out, behind = [], road.kerb(side) + road.outward(side) * road.sidewalk
    for x in _along(rng, road, (6.0, 20.0), 3.0):
        y = behind + road.outward(side) * float(rng.uniform(1.5, 5))
        crown = float(rng.uniform(1.0, 2.5))
        trunk = (float(rng.uniform(0.1, 0.25)), float(rng.uniform(1.8, 3.0)))
        thing = tree((x, y), trunk, (crown, trunk[1] + float(rng.uniform(2.5, 6))), _r(rng, 0.3, 0.5))
        if _take(occupied, thing):
            out.append(thing)
    for x in _along(rng, road, (8.0, 30.0), 2.0):
        y = behind + road.outward(side) * float(rng.uniform(0.5, 1.5))
        if rng.random() < 0.4:
            size = (float(rng.uniform(5, 25)), float(rng.uniform(0.2, 0.4)), float(rng.uniform(0.6, 2.2)))
            thing = block("wall", (x + size[0] / 2, y), 0.0, size, _r(rng, 0.2, 0.5))
        else:
            size = (float(rng.uniform(0.8, 3.0)), float(rng.uniform(0.6, 1.5)), float(rng.uniform(0.5, 1.4)))
            thing = block("bush", (x, y), float(rng.uniform(-0.3, 0.3)), size, _r(rng, 0.25, 0.45))
        if _take(occupied, thing):
            out.append(thing)
    return out


def _poles(rng: np.random.Generator, road: Road, side: int, occupied: Occupancy) -> list[Thing]:
    out = []
    for x in _along(rng, road, (12.0, 35.0), 0.0):
        y = road.kerb(side) + road.outward(side) * float(rng.uniform(0.3, 0.6))
        thing = pole((x, y), float(rng.uniform(0.06, 0.15)), float(rng.uniform(3, 9)), _r(rng, 0.4, 0.8))
        if _take(occupied, thing):
            out.append(thing)
    return out


def _small(rng: np.random.Generator, road: Road, side: int, occupied: Occupancy) -> list[Thing]:
    """Bins on the sidewalk; trailers (and vans without a label) in a parking strip."""
    out = []
    for _ in range(int(rng.integers(0, 3))):
        x = float(rng.uniform(START, 60))
        y = road.kerb(side) + road.outward(side) * float(rng.uniform(0.5, road.sidewalk - 0.4))
        size = (float(rng.uniform(0.5, 0.8)), float(rng.uniform(0.5, 0.8)), float(rng.uniform(0.9, 1.2)))
        out.append(block("bin", (x, y), float(rng.uniform(-0.5, 0.5)), size, _r(rng, 0.2, 0.6)))
    if road.parking[side]:
        for _ in range(int(rng.integers(0, 3))):
            x, y = float(rng.uniform(5, 60)), road.kerb(side) - road.outward(side) * 1.15
            size = (float(rng.uniform(2.5, 6.5)), float(rng.uniform(1.8, 2.3)), float(rng.uniform(1.5, 3.0)))
            out.append(block("trailer", (x, y), float(rng.normal(0, 0.03)), size, _r(rng, 0.2, 0.6)))
    return [thing for thing in out if _take(occupied, thing)]


def _r(rng: np.random.Generator, low: float, high: float) -> float:
    return round(float(rng.uniform(low, high)), 3)
