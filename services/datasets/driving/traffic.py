"""Who is on a clip's road: streams of agents by role, each spread evenly along the road.

A stream keeps its density steady while the camera drives: at frame 0 its
agents are spread over the whole simulated stretch, afterwards new ones enter
where the flow brings them in (far ahead for things the camera catches up
with, from behind it for cars overtaking in the next lane, from the side for
crossing traffic). Looks come from the single-frame placers
(:mod:`services.datasets.driving.placement`); only the motion is new here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from services.datasets.driving import palette
from services.datasets.driving.motion import FAR, FPS, NEAR, SIDE_LIMIT, Agent
from services.datasets.driving.placement import (
    CLUTTER,
    CLUTTER_P,
    place_clutter,
    place_cyclist,
    place_pedestrian,
    place_sign,
)
from services.datasets.driving.scene import Camera, Conditions, Road, Thing

Make = Callable[[np.random.Generator, float, int], Agent]  # (rng, depth, frame of birth) -> agent
DENSITY = {  # things per metre of road at an average clip's busyness (per lane for moving cars)
    "car_ahead": 0.014, "car_oncoming": 0.012, "car_parked": 0.014, "car_crossing": 0.0045,
    "pedestrian": 0.0145, "pedestrian_crossing": 0.005, "cyclist": 0.013, "traffic_sign": 0.031, "clutter": 0.075,
}
WALK = (0.9, 1.7)  # m/s
STRIDE = 1.4  # metres per gait cycle
CROSS_DEPTH = (15.0, 80.0)  # where crossing traffic enters from the side


@dataclass(frozen=True)
class Stream:
    """Agents of one role at ``density`` per metre, coming closer at ``closing`` m/s (positive: pulling away)."""

    density: float
    closing: float
    make: Make
    zmin: float = NEAR
    from_side: bool = False  # crossing traffic enters from the side instead of at the ends
    refill: bool = True  # False: no newcomers (the camera's own lane cannot be entered from behind)

    def births(self, rng: np.random.Generator, frame: int) -> int:
        if frame == 0:
            return int(rng.poisson(self.density * (FAR - self.zmin)))
        return int(rng.poisson(self.density * abs(self.closing) / FPS)) if self.refill else 0

    def depth(self, rng: np.random.Generator, frame: int) -> float:
        if frame == 0:
            return float(rng.uniform(self.zmin, FAR))
        if self.from_side:
            return float(rng.uniform(*CROSS_DEPTH))
        band = abs(self.closing) / FPS
        return FAR - float(rng.uniform(0, band)) if self.closing < 0 else NEAR + float(rng.uniform(0, band))


@dataclass(frozen=True)
class Setting:
    """What every stream of a clip shares."""

    road: Road
    camera: Camera
    conditions: Conditions
    ego_speed: float
    busy: float


def streams(rng: np.random.Generator, s: Setting) -> list[Stream]:
    """Every stream of a clip, cars first (they hold the lanes), clutter last."""
    approach = -s.ego_speed  # things standing or walking along the road come closer at about the ego's speed

    def of(role: str, make: Callable[[np.random.Generator, Setting, float, int], Agent], zmin: float,
           from_side: bool = False) -> Stream:
        density = DENSITY[role] * (1.0 if role == "clutter" else s.busy)
        return Stream(density, approach, lambda r, z, b: make(r, s, z, b), zmin, from_side)

    return [
        *_lane_streams(rng, s),
        of("car_parked", _parked, 3.3),
        of("car_crossing", _crossing_car, 9.0, from_side=True),
        of("pedestrian", _walker, 3.0),
        of("pedestrian_crossing", _crosser, 5.0, from_side=True),
        of("cyclist", _cyclist, 3.5),
        of("traffic_sign", _sign_post, 4.0),
        of("clutter", _clutter, 3.0),
    ]


def _lane_streams(rng: np.random.Generator, s: Setting) -> list[Stream]:
    """One stream per lane, every car of a lane at the lane's speed (nobody drives through anybody)."""
    road = s.road
    first_ahead = road.lanes // 2 if road.lanes > 1 else 0
    out = []
    for lane in range(road.lanes):
        ahead, own = lane >= first_ahead, lane == road.lanes - 1
        if own:
            speed = s.ego_speed + float(rng.uniform(0.3, 2.5))
        elif ahead:
            speed = s.ego_speed + float(rng.uniform(-4.0, 4.0))
        else:
            speed = -float(rng.uniform(8.0, 14.0))
        density = DENSITY["car_ahead" if ahead else "car_oncoming"] * s.busy
        make = _lane_car(s, lane, 0 if ahead else 1, speed)
        out.append(Stream(density, speed - s.ego_speed, make, zmin=5.5, refill=not own))
    return out


def _lane_car(s: Setting, lane: int, view: int, speed: float) -> Make:
    offset = s.road.lane_centre(lane, 0.0) - s.road.centre(0.0)

    def make(rng: np.random.Generator, z: float, born: int) -> Agent:
        d = offset + float(rng.normal(0, 0.2))
        return Agent(car_look(rng, s.conditions, z, view, parked=False), born, d, speed - s.ego_speed)

    return make


def car_look(rng: np.random.Generator, conditions: Conditions, z: float, view: int, *, parked: bool) -> Thing:
    """A car as :func:`services.datasets.driving.placement.place_car` dresses it, seen from behind (view 0),
    ahead (1) or the side (2)."""
    van = rng.random() < 0.15
    height = float(rng.uniform(1.8, 2.2) if van else rng.uniform(1.35, 1.6))
    width = float(rng.uniform(3.8, 4.9)) if view == 2 else float(rng.uniform(1.7, 2.0))
    colours = (palette.pick(rng, palette.CAR_PAINTS), palette.pick(rng, (palette.GLASS,), 10))
    lit = not parked and (conditions.lights_on or rng.random() < 0.1)
    return Thing("car", 0.0, z, width, height, colours, view, _sign(rng), 0.0, lit)


def _parked(rng: np.random.Generator, s: Setting, z: float, born: int) -> Agent:
    """Half on the kerb, facing the traffic of its side."""
    side = 1 if rng.random() < 0.65 else -1
    look = car_look(rng, s.conditions, z, 0 if side > 0 else 1, parked=True)
    d = side * (s.road.half_width + look.width / 2 - float(rng.uniform(0.3, 0.6)))
    return Agent(look, born, d, -s.ego_speed)


def _crossing_car(rng: np.random.Generator, s: Setting, z: float, born: int) -> Agent:
    """Crossing the road at a side street, from out of view at one side to out of view at the other."""
    look = car_look(rng, s.conditions, z, 2, parked=False)
    start = _entry(s, z, look.facing) if born else float(rng.uniform(-s.road.half_width - 2, s.road.half_width + 2))
    return Agent(look, born, start, -s.ego_speed, look.facing * float(rng.uniform(4.0, 8.0)))


def _entry(s: Setting, z: float, heading: int) -> float:
    """A lateral offset just out of view at depth ``z`` on the side opposite ``heading``."""
    half_view = s.camera.cx / s.camera.focal * z + 3.0
    return float(np.clip(-heading * half_view - s.road.centre(z), -SIDE_LIMIT, SIDE_LIMIT))


def _walker(rng: np.random.Generator, s: Setting, z: float, born: int) -> Agent:
    """On a sidewalk, walking either way along the road."""
    look = replace(place_pedestrian(rng, s.road, s.conditions), z=z)
    d = _sign(rng) * (s.road.half_width + float(rng.uniform(0.4, max(s.road.sidewalk - 0.2, 0.5))))
    speed = _sign(rng) * float(rng.uniform(*WALK))
    return Agent(look, born, d, speed - s.ego_speed, gait=abs(speed) / STRIDE)


def _crosser(rng: np.random.Generator, s: Setting, z: float, born: int) -> Agent:
    """Crossing from one sidewalk to the other, then standing there."""
    look = replace(place_pedestrian(rng, s.road, s.conditions), z=z)
    road, heading = s.road, look.facing
    start = -heading * (road.half_width + road.sidewalk + float(rng.uniform(0.5, 3.0)))
    if born == 0:
        start = float(rng.uniform(-road.half_width, road.half_width))
    end = heading * (road.half_width + float(rng.uniform(0.4, max(road.sidewalk - 0.2, 0.5))))
    speed = float(rng.uniform(1.1, 1.6))
    walk = abs(end - start) / speed
    return Agent(look, born, start, -s.ego_speed, heading * speed, walk, speed / STRIDE, walk)


def _cyclist(rng: np.random.Generator, s: Setting, z: float, born: int) -> Agent:
    """Along the road's edge (either way, on the side its traffic drives), or crossing it and riding away."""
    placed = place_cyclist(rng, s.road, s.conditions)
    look = replace(placed, z=z)
    if look.pose >= 0.8:  # seen from the side: place_cyclist's crossing rider
        d = placed.x - s.road.centre(placed.z)
        return Agent(look, born, d, -s.ego_speed, look.facing * float(rng.uniform(3.0, 5.0)))
    side = _sign(rng, 0.7)
    d = side * (s.road.half_width - float(rng.uniform(0.3, 0.7)))
    return Agent(look, born, d, side * float(rng.uniform(3.0, 6.0)) - s.ego_speed)


def _static(look: Thing, s: Setting, z: float, born: int) -> Agent:
    """Standing where its placer put it beside the road."""
    return Agent(replace(look, z=z), born, look.x - s.road.centre(look.z), -s.ego_speed)


def _sign_post(rng: np.random.Generator, s: Setting, z: float, born: int) -> Agent:
    return _static(place_sign(rng, s.road, s.conditions), s, z, born)


def _clutter(rng: np.random.Generator, s: Setting, z: float, born: int) -> Agent:
    kind = CLUTTER[int(rng.choice(len(CLUTTER), p=CLUTTER_P))]
    return _static(place_clutter(rng, s.road, s.conditions, kind), s, z, born)


def _sign(rng: np.random.Generator, positive: float = 0.5) -> int:
    return 1 if rng.random() < positive else -1

