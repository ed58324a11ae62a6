"""One synthetic LiDAR frame: its points and the cuboids a careful annotator would draw in them.

An object is in the ground truth only if at least one point lies inside its cuboid (nuScenes' rule:
an annotator cannot label what the sensor did not see; nuScenes' evaluation likewise drops boxes
without LiDAR points). So an object hidden behind another, outside the field of view, or lost to
dropout in fog is not labelled. ``num_points`` counts the frame's points inside the cuboid (ground
returns and droplets included, as nuScenes' ``num_lidar_pts``), on the float32 points as delivered,
so anyone recounting gets the same number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.datasets.driving3d.lidar import LIDAR, Lidar
from services.datasets.driving3d.placement import sample_scene
from services.datasets.driving3d.scan import Scan, scan
from services.datasets.driving3d.scene import CATEGORIES, COORDINATE_SYSTEM, NOISE_SALT, Scene, Thing

Points = npt.NDArray[np.float32]


@dataclass(frozen=True)
class LidarObject:
    """A labelled cuboid: centre (x, y, z) and size (length, width, height) in metres, heading ``yaw``
    (radians from x, counter-clockwise seen from above), in coordinate system ``frame``."""

    category: str
    centre: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float
    num_points: int
    frame: str = COORDINATE_SYSTEM

    @property
    def category_id(self) -> int:
        return CATEGORIES.index(self.category) + 1

    @property
    def distance(self) -> float:
        """Bird's-eye-view distance from the sensor to the centre, metres."""
        return math.hypot(self.centre[0], self.centre[1])

    @property
    def cuboid(self) -> tuple[float, float, float, float, float, float, float]:
        """``(x, y, z, length, width, height, yaw)``."""
        return (*self.centre, *self.size, self.yaw)


@dataclass(frozen=True)
class LidarLabels:
    """What an annotator would record for frame ``index`` (0-based): its cuboids and tags."""

    index: int
    objects: tuple[LidarObject, ...]
    tags: dict[str, str]


@dataclass(frozen=True, eq=False)
class LidarFrame:
    """A frame's points (N, 4: x, y, z, intensity) float32, each point's owner (see :class:`Scan`), and labels."""

    points: Points
    owner: npt.NDArray[np.int32]
    labels: LidarLabels


def render_frame(seed: int, index: int, lidar: Lidar = LIDAR) -> LidarFrame:
    """Frame ``index`` (0-based) of the data set ``seed``: the same points and labels however often asked."""
    return render_scene(sample_scene(seed, index), np.random.default_rng([seed, index, NOISE_SALT]), lidar)


def label_frame(seed: int, index: int) -> LidarLabels:
    """The labels of one frame (which objects were seen needs the sweep, so this costs a whole frame)."""
    return render_frame(seed, index).labels


def render_scene(scene: Scene, rng: np.random.Generator, lidar: Lidar = LIDAR) -> LidarFrame:
    swept = scan(scene, rng, lidar)
    return LidarFrame(swept.points, swept.owner, label_scene(scene, swept))


def label_scene(scene: Scene, swept: Scan) -> LidarLabels:
    objects = []
    for thing in scene.objects:
        n = int(np.count_nonzero(points_in_cuboid(swept.points, thing.cuboid)))
        if n:
            objects.append(_label(thing, n))
    return LidarLabels(scene.index, tuple(objects), scene.conditions.tags)


def _label(thing: Thing, num_points: int) -> LidarObject:
    x, y, z, length, width, height, yaw = thing.cuboid
    return LidarObject(thing.kind, (x, y, z), (length, width, height), yaw, num_points)


def points_in_cuboid(points: npt.NDArray[np.floating], cuboid: tuple[float, ...]) -> npt.NDArray[np.bool_]:
    """Which points (N, >= 3) lie inside the cuboid ``(x, y, z, length, width, height, yaw)``, faces included."""
    x, y, z, length, width, height, yaw = cuboid
    c, s = math.cos(yaw), math.sin(yaw)
    dx, dy = points[:, 0].astype(np.float64) - x, points[:, 1].astype(np.float64) - y
    along, across = c * dx + s * dy, -s * dx + c * dy
    up = points[:, 2].astype(np.float64) - z
    return (np.abs(along) <= length / 2) & (np.abs(across) <= width / 2) & (np.abs(up) <= height / 2)
