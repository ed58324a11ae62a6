"""A scene's traced rays as the sensor reports them: noisy, with dropout and droplets, as (N, 4) points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.datasets.driving3d.lidar import (
    GROUND,
    LIDAR,
    SPURIOUS,
    SPURIOUS_RANGE,
    Lidar,
    ground_reflectivity,
    ray_grid,
    trace,
)
from services.datasets.driving3d.scene import FloatArray, Scene

NOISE_CLIP = 4.0  # range noise is clipped at this many sigma
SPURIOUS_REFLECTIVITY = 0.05


@dataclass(frozen=True, eq=False)
class Scan:
    """Points (N, 4: x, y, z, intensity) float32 in the vehicle frame, and each point's owner: the index
    of the thing it hit in ``scene.things``, or ``GROUND`` / ``SPURIOUS``."""

    points: npt.NDArray[np.float32]
    owner: npt.NDArray[np.int32]


def scan(scene: Scene, rng: np.random.Generator, lidar: Lidar = LIDAR) -> Scan:
    """The returns of one sweep; ``rng`` draws the noise, dropout and droplets (a fixed number of draws per ray)."""
    traced = trace(scene, lidar)
    t, owner, cosine = traced.t.ravel().copy(), traced.owner.ravel().copy(), traced.cosine.ravel().copy()
    n, cond = t.size, scene.conditions
    noise = np.clip(rng.standard_normal(n), -NOISE_CLIP, NOISE_CLIP) * lidar.noise
    survives = rng.random(n) < (1 - cond.dropout) * np.exp(-np.square(t / cond.visibility))
    jitter = rng.normal(0.0, 0.01, n)
    idx = rng.integers(0, n, int(rng.poisson(cond.spurious)))
    dist = rng.uniform(*SPURIOUS_RANGE, len(idx))
    front = dist < t[idx]
    idx, dist = idx[front], dist[front]
    t[idx], owner[idx], cosine[idx], survives[idx], noise[idx] = dist, SPURIOUS, 1.0, True, 0.0
    keep = np.flatnonzero(np.isfinite(t) & survives)
    r = t[keep] + noise[keep]
    xyz = lidar.origin + r[:, None] * ray_grid(lidar).directions.reshape(-1, 3)[keep]
    reflectivity = _reflectivity(scene, owner[keep], xyz)
    intensity = reflectivity * (0.3 + 0.7 * cosine[keep]) * np.exp(-r / cond.visibility) + jitter[keep]
    points = np.column_stack([xyz, np.clip(intensity, 0.0, 1.0)]).astype(np.float32)
    return Scan(points, owner[keep])


def _reflectivity(scene: Scene, owner: npt.NDArray[np.int32], xyz: FloatArray) -> FloatArray:
    things = np.array([thing.reflectivity for thing in scene.things] + [SPURIOUS_REFLECTIVITY], dtype=np.float64)
    refl = things[np.where(owner >= 0, owner, len(things) - 1)]
    on_ground = owner == GROUND
    refl[on_ground] = ground_reflectivity(scene.road, xyz[on_ground, 0], xyz[on_ground, 1])
    return refl
