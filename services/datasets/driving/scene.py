"""A driving scene as plain data, sampled per frame: camera, road, conditions and things on it.

Frame ``i`` of seed ``s`` draws everything from ``np.random.default_rng([s, i])``,
so any frame can be sampled alone, in any order, with the same result. World
coordinates are metres in the camera's frame: ``x`` to the right, ``z`` ahead,
the road flat at ``camera.height`` below the lens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from services.datasets.driving import palette
from services.datasets.driving.draw import RGB

WIDTH, HEIGHT = 320, 192
CATEGORIES: tuple[str, ...] = ("car", "pedestrian", "cyclist", "traffic_sign")  # category id = index + 1
WEATHER: tuple[str, ...] = ("clear", "rain", "fog")
TIME_OF_DAY: tuple[str, ...] = ("day", "dusk", "night")

Kind = Literal[
    "car", "pedestrian", "cyclist", "traffic_sign", "pole", "lamp", "tree", "bush", "bin", "box", "cone",
]


@dataclass(frozen=True)
class Camera:
    """A level pinhole camera: focal length in pixels, horizon row, lens height in metres."""

    focal: float
    horizon: float
    height: float
    cx: float = WIDTH / 2

    def project(self, x: float, z: float) -> tuple[float, float, float]:
        """Column and row of the ground point ``(x, z)``, and the scale there in pixels per metre."""
        s = self.focal / z
        return self.cx + x * s, self.horizon + self.height * s, s


@dataclass(frozen=True)
class Road:
    """A road of ``lanes`` lanes bending with ``curve`` (lateral metres per metre² of depth)."""

    lanes: int
    lane_width: float
    ego_x: float  # the camera's lateral offset from the road's centre line
    curve: float
    sidewalk: float
    buildings: bool  # buildings along the road, else grass verges with trees
    dash_phase: float
    travelled: float = 0.0  # metres driven since a clip began: moves the road's texture with the camera

    @property
    def half_width(self) -> float:
        return self.lanes * self.lane_width / 2

    def centre(self, z: float) -> float:
        """Lateral position of the road's centre line at depth ``z``."""
        return self.curve * z * z - self.ego_x

    def lane_centre(self, lane: int, z: float) -> float:
        return self.centre(z) - self.half_width + (lane + 0.5) * self.lane_width


@dataclass(frozen=True)
class Conditions:
    """Image-level conditions: they become the frame's tags and change its pixels."""

    weather: str
    time_of_day: str
    haze: float  # metres over which contrast falls to 1/e
    rain: float  # 0 (none) to 1 (downpour)
    exposure: float

    @property
    def tags(self) -> dict[str, str]:
        return {"weather": self.weather, "time_of_day": self.time_of_day}

    @property
    def lights_on(self) -> bool:
        return self.time_of_day != "day" or self.weather == "fog"


@dataclass(frozen=True)
class Thing:
    """Something standing on the ground at ``(x, z)``: a labelled object or clutter.

    ``width`` and ``height`` are metres; ``colors`` and ``variant`` (view or shape),
    ``facing`` (+1 right, -1 left) and ``pose`` (0..1, gait or view angle) are
    read by the drawing function of ``kind``.
    """

    kind: Kind
    x: float
    z: float
    width: float
    height: float
    colors: tuple[RGB, ...]
    variant: int = 0
    facing: int = 1
    pose: float = 0.0
    lit: bool = False
    track: int = -1  # identity across a clip's frames (services.datasets.driving.sequence), -1 in single frames

    @property
    def category_id(self) -> int:
        """COCO category id, 0 for unlabelled clutter."""
        return CATEGORIES.index(self.kind) + 1 if self.kind in CATEGORIES else 0


@dataclass(frozen=True)
class Block:
    """A building facade parallel to the road, from depth ``z0`` to ``z1``, on side -1 or +1."""

    side: int
    offset: float  # metres beyond the sidewalk's outer edge
    z0: float
    z1: float
    height: float
    color: RGB
    bay: float  # window spacing along the facade
    storey: float
    lit: float  # fraction of windows lit at night


@dataclass(frozen=True)
class Scene:
    """Everything needed to draw one frame; ``things`` are ordered far to near."""

    index: int
    camera: Camera
    road: Road
    conditions: Conditions
    things: tuple[Thing, ...]
    blocks: tuple[Block, ...]
    detail_seed: int
    rain_seed: int | None = None  # a clip's frames keep one detail seed but not one fall of rain; None: detail seed


def sample_conditions(rng: np.random.Generator) -> Conditions:
    weather = str(rng.choice(WEATHER, p=[0.55, 0.25, 0.2]))
    time_of_day = str(rng.choice(TIME_OF_DAY, p=[0.5, 0.22, 0.28]))
    haze = {"clear": rng.uniform(500, 900), "rain": rng.uniform(110, 220), "fog": rng.uniform(22, 60)}[weather]
    rain = rng.uniform(0.4, 1.0) if weather == "rain" else 0.0
    return Conditions(weather, time_of_day, float(haze), float(rain), float(rng.uniform(0.9, 1.1)))


def sample_camera(rng: np.random.Generator) -> Camera:
    return Camera(
        focal=float(rng.uniform(270, 320)), horizon=float(rng.uniform(66, 92)), height=float(rng.uniform(1.3, 1.6))
    )


def sample_road(rng: np.random.Generator) -> Road:
    lanes = int(rng.choice([1, 2, 3, 4], p=[0.1, 0.45, 0.2, 0.25]))
    lane_width = float(rng.uniform(3.0, 3.7))
    ego_lane = lanes - 1 if lanes > 1 else 0
    ego_x = (ego_lane + 0.5) * lane_width - lanes * lane_width / 2 + float(rng.uniform(-0.4, 0.4))
    curve = 0.0 if rng.random() < 0.4 else float(rng.uniform(-0.0025, 0.0025))
    return Road(
        lanes, lane_width, ego_x, curve, sidewalk=float(rng.uniform(1.8, 4.0)),
        buildings=bool(rng.random() < 0.6), dash_phase=float(rng.uniform(0, 12)),
    )


def sample_blocks(rng: np.random.Generator, road: Road, until: float = 150.0) -> tuple[Block, ...]:
    """Rows of buildings on both sides, with gaps, out to about ``until`` metres."""
    if not road.buildings:
        return ()
    blocks = []
    for side in (-1, 1):
        z = float(rng.uniform(2, 15))
        while z < until:
            length = float(rng.uniform(10, 40))
            if rng.random() < 0.85:
                blocks.append(Block(
                    side, float(rng.uniform(0, 3)), z, z + length, float(rng.uniform(6, 25)),
                    palette.pick(rng, palette.FACADES, 15), float(rng.uniform(2.5, 4)),
                    float(rng.uniform(2.8, 3.4)), float(rng.uniform(0.1, 0.6)),
                ))
            z += length + float(rng.uniform(0, 8))
    return tuple(blocks)
