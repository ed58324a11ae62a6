"""A spinning LiDAR's forward sweep of a scene: first returns, range noise, dropout, droplets and intensity.

The sensor fires ``channels`` beams at elevations evenly spread over ``elevation`` degrees, at every
``step`` degrees of azimuth over a forward field of view (azimuths sit half a step off the x axis).
Each ray returns its first hit among the ground, the objects and the clutter within ``max_range``.
Only rays whose direction falls inside a thing's angular window (from its bounding cuboid) are tested
against it, so a frame costs about as much as the rays the things cover.

The range gets Gaussian noise (``noise`` metres, clipped at 4 sigma, so a point lies within
``4 * noise`` of the surface it hit along its ray); a return survives with the probability the
frame's :class:`Conditions` give, which falls with range (and far faster in rain and fog); rain and
fog add a few spurious returns 1-6 m away. Intensity, in [0, 1], is the surface's reflectivity times
a Lambertian term, dimmed with range.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.datasets.driving3d import rays
from services.datasets.driving3d.scene import SENSOR_HEIGHT, FloatArray, Road, Scene, Thing

GROUND, NOTHING, SPURIOUS = -1, -2, -3  # owners of returns that are not a thing's
SPURIOUS_RANGE = (1.0, 6.0)


@dataclass(frozen=True)
class Lidar:
    """The sensor: beams, field of view and noise; angles in degrees, distances in metres."""

    channels: int = 32
    elevation: tuple[float, float] = (-25.0, 3.0)
    fov: float = 120.0
    step: float = 0.2
    max_range: float = 100.0
    noise: float = 0.02
    height: float = SENSOR_HEIGHT

    @property
    def origin(self) -> FloatArray:
        return np.array([0.0, 0.0, self.height])


LIDAR = Lidar()


@dataclass(frozen=True)
class Grid:
    """Beam angles (radians, ascending) and unit directions (channels, azimuths, 3)."""

    elevation: FloatArray
    azimuth: FloatArray
    directions: FloatArray


@functools.cache
def ray_grid(lidar: Lidar) -> Grid:
    elevation = np.radians(np.linspace(*lidar.elevation, lidar.channels))
    n = round(lidar.fov / lidar.step)
    azimuth = np.radians(-lidar.fov / 2 + (np.arange(n) + 0.5) * lidar.step)
    ce, se = np.cos(elevation)[:, None], np.sin(elevation)[:, None]
    directions = np.stack(np.broadcast_arrays(ce * np.cos(azimuth), ce * np.sin(azimuth), se), -1)
    directions.flags.writeable = False
    return Grid(elevation, azimuth, directions)


@dataclass(frozen=True)
class Returns:
    """Each ray's first hit: distance (inf: none), owner (index into ``scene.things``, or GROUND,
    NOTHING, SPURIOUS) and cosine of incidence, all (channels, azimuths)."""

    t: FloatArray
    owner: npt.NDArray[np.int32]
    cosine: FloatArray


def trace(scene: Scene, lidar: Lidar = LIDAR) -> Returns:
    """The exact first hits of every ray, before noise and dropout; things are tested nearest first, each
    only on the rays of its window whose first hit so far is farther than the thing can be."""
    grid = ray_grid(lidar)
    shape = grid.directions.shape[:2]
    t, cosine = (a.reshape(shape) for a in rays.ground(lidar.height, grid.directions.reshape(-1, 3)))
    owner = np.where(np.isfinite(t), GROUND, NOTHING).astype(np.int32)
    things = scene.things
    near, windows = _windows(things, grid, lidar)
    for k in np.argsort(near, kind="stable").tolist():
        c0, c1, a0, a1 = windows[k]
        if c0 >= c1 or a0 >= a1:
            continue
        current = t[c0:c1, a0:a1]
        candidate = current > near[k]  # a hit is never nearer than the thing's footprint
        if not candidate.any():
            continue
        tk, ck = _hit(things[k], lidar.origin, grid.directions[c0:c1, a0:a1][candidate])
        closer = tk < current[candidate]
        rows, cols = np.nonzero(candidate)
        rows, cols = rows[closer] + c0, cols[closer] + a0
        t[rows, cols], owner[rows, cols], cosine[rows, cols] = tk[closer], k, ck[closer]
    beyond = t > lidar.max_range
    t[beyond], owner[beyond] = np.inf, NOTHING
    return Returns(t, owner, cosine)


def _hit(thing: Thing, origin: FloatArray, d: FloatArray) -> rays.Hits:
    parts = []
    if len(thing.boxes):
        parts.append(rays.boxes(origin, d, thing.boxes))
    if len(thing.cylinders):
        parts.append(rays.cylinders(origin, d, thing.cylinders))
    if len(parts) == 1:
        return parts[0]
    (tb, cb), (tc, cc) = parts
    return np.minimum(tb, tc), np.where(tb <= tc, cb, cc)


def _windows(things: tuple[Thing, ...], grid: Grid, lidar: Lidar) -> tuple[FloatArray, list[list[int]]]:
    """Each thing's distance from the sensor's foot to its footprint, and the channels and azimuths (index
    ranges ``c0, c1, a0, a1``) of the rays that can meet its cuboid (empty beyond ``max_range``)."""
    if not things:
        return np.zeros(0), []
    x, y, z, length, width, height, yaw = np.array([thing.cuboid for thing in things]).T
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    u, v = np.array([1, 1, -1, -1]) * length[:, None] / 2, np.array([1, -1, -1, 1]) * width[:, None] / 2
    cx, cy = x[:, None] + c * u - s * v, y[:, None] + s * u + c * v
    azimuth = np.arctan2(cy, cx)
    along, across = np.abs(c[:, 0] * x + s[:, 0] * y), np.abs(-s[:, 0] * x + c[:, 0] * y)
    near = np.hypot(np.maximum(along - length / 2, 0), np.maximum(across - width / 2, 0))
    around = (near == 0) | (np.ptp(azimuth, axis=1) > np.pi)  # the sensor inside, or the -x axis crossed
    lo = np.where(around, -np.inf, azimuth.min(1))
    hi = np.where(around, np.inf, azimuth.max(1))
    rise = np.stack([z - height / 2, z + height / 2], 1) - lidar.height
    reach = np.stack([near, np.hypot(cx, cy).max(1)], 1)
    angles = np.arctan2(rise[:, :, None], reach[:, None, :]).reshape(len(things), 4)
    eps = 1e-9
    c0 = np.searchsorted(grid.elevation, angles.min(1) - eps)
    c1 = np.where(near > lidar.max_range, 0, np.searchsorted(grid.elevation, angles.max(1) + eps))
    a0, a1 = np.searchsorted(grid.azimuth, lo - eps), np.searchsorted(grid.azimuth, hi + eps)
    return near, np.stack([c0, c1, a0, a1], 1).tolist()


def ground_reflectivity(road: Road, x: FloatArray, y: FloatArray) -> FloatArray:
    """Asphalt, paler sidewalks beyond the kerbs, and lane markings (dashed between lanes, solid at the edges)."""
    on_road = (y >= road.kerb(0)) & (y <= road.kerb(1))
    refl = np.where(on_road, 0.1, 0.22)
    lines = road.right + road.lane_width * np.arange(1, road.lanes)
    near_line = np.abs(y[:, None] - lines[None, :]).min(1) < 0.08 if len(lines) else np.zeros(len(y), bool)
    dashed = near_line & (np.mod(x, 9.0) < 3.0)
    edge = (np.abs(y - road.right - 0.2) < 0.08) | (np.abs(y - road.left + 0.2) < 0.08)
    return np.where(dashed | edge, 0.55, refl)
