"""A LiDAR driving scene as plain data, sampled per frame: road, conditions, labelled objects and clutter.

Frame ``i`` of seed ``s`` draws its scene from ``np.random.default_rng([s, i, SCENE_SALT])`` and its
sensor noise from ``np.random.default_rng([s, i, NOISE_SALT])``, so any frame can be produced alone,
in any order, with the same points and labels (the salts keep frame ``i`` apart from frame ``i`` of
the 2D set ``synthetic://driving``, which draws from ``[s, i]``).

Coordinates are metres in the vehicle frame ``vehicle-iso8855`` (ISO 8855: x forward, y left, z up),
its origin on the ground below the sensor, which sits ``SENSOR_HEIGHT`` above it. The ground is the
plane z = 0 and the road runs along x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.datasets.driving.scene import TIME_OF_DAY, WEATHER

COORDINATE_SYSTEM = "vehicle-iso8855"  # the name ASAM's OpenLABEL examples give the vehicle frame
CATEGORIES: tuple[str, ...] = ("car", "pedestrian", "cyclist")  # category id = index + 1
SENSOR_HEIGHT = 1.8
SCENE_SALT, NOISE_SALT = 3_001, 3_002

FloatArray = npt.NDArray[np.float64]

__all__ = ["CATEGORIES", "COORDINATE_SYSTEM", "SENSOR_HEIGHT", "TIME_OF_DAY", "WEATHER"]


@dataclass(frozen=True)
class Road:
    """A straight road along x: ``lanes`` lanes from ``right`` (the y of its right edge) leftwards.

    The right ``ours`` lanes run our way (heading 0), the others towards us (heading pi). Each side
    may have a parking strip between the road and the sidewalk; ``junction`` is the x of a crossing
    road's centre line, or None.
    """

    lanes: int
    lane_width: float
    right: float
    ours: int
    sidewalk: float
    parking: tuple[bool, bool]  # right side, left side
    buildings: tuple[bool, bool]
    junction: float | None
    junction_width: float

    @property
    def left(self) -> float:
        return self.right + self.lanes * self.lane_width

    def lane_centre(self, lane: int) -> float:
        return self.right + (lane + 0.5) * self.lane_width

    def heading(self, lane: int) -> float:
        return 0.0 if lane < self.ours else math.pi

    def kerb(self, side: int) -> float:
        """The y of the kerb on ``side`` (0 right, 1 left): the road's edge beyond any parking strip."""
        strip = PARKING_WIDTH if self.parking[side] else 0.0
        return self.right - strip if side == 0 else self.left + strip

    def outward(self, side: int) -> float:
        """+1 or -1: the direction of y away from the road on ``side``."""
        return -1.0 if side == 0 else 1.0

    def at_junction(self, x: float, margin: float = 0.0) -> bool:
        return self.junction is not None and abs(x - self.junction) < self.junction_width / 2 + margin


PARKING_WIDTH = 2.3


@dataclass(frozen=True)
class Conditions:
    """Frame-level conditions: they become the frame's tags and change the returns.

    A return at range r survives with probability ``(1 - dropout) * exp(-(r / visibility)^2)``;
    rain and fog shorten ``visibility`` and add ``spurious`` returns (on average) from droplets
    close to the sensor. A LiDAR is its own light, so time of day changes little: daylight adds
    a little dropout (solar background).
    """

    weather: str
    time_of_day: str
    dropout: float
    visibility: float
    spurious: float

    @property
    def tags(self) -> dict[str, str]:
        return {"weather": self.weather, "time_of_day": self.time_of_day}


def sample_conditions(rng: np.random.Generator) -> Conditions:
    weather = str(rng.choice(WEATHER, p=[0.55, 0.25, 0.2]))
    time_of_day = str(rng.choice(TIME_OF_DAY, p=[0.5, 0.22, 0.28]))
    dropout = {"clear": 0.02, "rain": 0.07, "fog": 0.1}[weather] + (0.01 if time_of_day == "day" else 0.0)
    visibility = {"clear": rng.uniform(220, 300), "rain": rng.uniform(110, 160), "fog": rng.uniform(45, 80)}[weather]
    spurious = {"clear": 0.0, "rain": 40.0, "fog": 120.0}[weather]
    return Conditions(weather, time_of_day, dropout, float(visibility), spurious)


def sample_road(rng: np.random.Generator) -> Road:
    lanes = int(rng.choice([2, 3, 4], p=[0.45, 0.3, 0.25]))
    lane_width = round(float(rng.uniform(3.0, 3.7)), 3)
    ours = (lanes + 1) // 2
    ego_lane = int(rng.integers(ours))
    right = round(-(ego_lane + 0.5) * lane_width + float(rng.uniform(-0.3, 0.3)), 3)
    parking = (bool(rng.random() < 0.5), bool(rng.random() < 0.4))
    buildings = (bool(rng.random() < 0.6), bool(rng.random() < 0.6))
    junction = round(float(rng.uniform(15, 50)), 3) if rng.random() < 0.35 else None
    return Road(
        lanes,
        lane_width,
        right,
        ours,
        round(float(rng.uniform(2.0, 4.0)), 3),
        parking,
        buildings,
        junction,
        round(float(rng.uniform(7, 12)), 3),
    )


@dataclass(frozen=True, eq=False)
class Thing:
    """Something that returns laser light: a labelled object (``kind`` in CATEGORIES) or clutter.

    ``cuboid`` (x, y, z, length, width, height, yaw; z is the centre's height, length runs along the
    heading yaw) bounds it and is an object's ground truth. Its surfaces, all inside the cuboid, are
    upright ``boxes`` (P, 7, the same layout) and vertical ``cylinders`` (Q, 5: x, y, z0, z1, radius).
    """

    kind: str
    cuboid: tuple[float, float, float, float, float, float, float]
    boxes: FloatArray
    cylinders: FloatArray
    reflectivity: float

    @property
    def labelled(self) -> bool:
        return self.kind in CATEGORIES


@dataclass(frozen=True, eq=False)
class Scene:
    """Everything the sensor sees in one frame: labelled ``objects`` first, unlabelled ``clutter`` after."""

    index: int
    road: Road
    conditions: Conditions
    objects: tuple[Thing, ...]
    clutter: tuple[Thing, ...]

    @property
    def things(self) -> tuple[Thing, ...]:
        """Objects then clutter: a return's owner is its index here."""
        return self.objects + self.clutter
