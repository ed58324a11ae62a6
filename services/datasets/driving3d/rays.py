"""Where rays from one origin first meet upright boxes, vertical cylinders and the ground: vectorised.

Each function takes ray directions ``d`` (R, 3), unit length, and returns, per ray, the distance to
the first surface the ray enters (inf if none) and the cosine of the angle between the ray and that
surface's normal (for the return's intensity). A ray starting inside a shape does not hit it.
"""

from __future__ import annotations

import numpy as np

from services.datasets.driving3d.scene import FloatArray

Hits = tuple[FloatArray, FloatArray]  # distance (R,), cosine of incidence (R,)


def ground(origin_z: float, d: FloatArray) -> Hits:
    """The plane z = 0 below an origin at height ``origin_z``."""
    down = d[:, 2] < 0
    with np.errstate(divide="ignore"):
        t = np.where(down, origin_z / -d[:, 2], np.inf)
    return t, np.abs(d[:, 2])


def boxes(origin: FloatArray, d: FloatArray, box: FloatArray) -> Hits:
    """Boxes (P, 7: x, y, z centre, length, width, height, yaw) by the slab method, in each box's own frame."""
    c, s = np.cos(box[:, 6]), np.sin(box[:, 6])
    rx, ry = origin[0] - box[:, 0], origin[1] - box[:, 1]
    dx, dy = d[:, 0:1], d[:, 1:2]
    local = (
        (c * rx + s * ry, dx * c + dy * s, box[:, 3]),  # along the box's length: origin, direction, size
        (c * ry - s * rx, dy * c - dx * s, box[:, 4]),
        (origin[2] - box[:, 2], d[:, 2:3], box[:, 5]),
    )
    near, far = [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        for o, direction, size in local:
            inv = 1.0 / direction
            t1, t2 = (-size / 2 - o) * inv, (size / 2 - o) * inv
            near.append(np.minimum(t1, t2))
            far.append(np.maximum(t1, t2))
    t_near = np.maximum(np.maximum(near[0], near[1]), near[2])
    t_far = np.minimum(np.minimum(far[0], far[1]), far[2])
    t = np.where((t_near <= t_far) & (t_near > 0), t_near, np.inf)
    cosine = np.where(
        t_near == near[0], np.abs(local[0][1]), np.where(t_near == near[1], np.abs(local[1][1]), np.abs(d[:, 2:3]))
    )
    return _first(t, cosine)


def cylinders(origin: FloatArray, d: FloatArray, cyl: FloatArray) -> Hits:
    """Vertical cylinders (Q, 5: x, y, z bottom, z top, radius): the side, or the cap facing the origin."""
    rx, ry = origin[0] - cyl[:, 0], origin[1] - cyl[:, 1]
    oz, z0, z1, r = origin[2], cyl[:, 2], cyl[:, 3], cyl[:, 4]
    a = (d[:, 0] ** 2 + d[:, 1] ** 2)[:, None]
    b = 2 * (np.outer(d[:, 0], rx) + np.outer(d[:, 1], ry))
    disc = b * b - 4 * a * (rx * rx + ry * ry - r * r)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_side = (-b - np.sqrt(disc)) / (2 * a)
        z = oz + t_side * d[:, 2:3]
        side = (disc >= 0) & (t_side > 0) & (z >= z0) & (z <= z1)
        cap_z = np.where(oz > z1, z1, z0)
        t_cap = (cap_z - oz) / d[:, 2:3]
    px, py = rx + t_cap * d[:, 0:1], ry + t_cap * d[:, 1:2]
    cap = (t_cap > 0) & ((oz > z1) | (oz < z0)) & (px * px + py * py <= r * r)
    t_side, t_cap = np.where(side, t_side, np.inf), np.where(cap, t_cap, np.inf)
    nx, ny = (rx + t_side * d[:, 0:1]) / r, (ry + t_side * d[:, 1:2]) / r
    with np.errstate(invalid="ignore"):
        side_cos = np.abs(nx * d[:, 0:1] + ny * d[:, 1:2])
    t = np.minimum(t_side, t_cap)
    cosine = np.where(t_side <= t_cap, side_cos, np.abs(d[:, 2:3]))
    return _first(t, cosine)


def _first(t: FloatArray, cosine: FloatArray) -> Hits:
    """Per ray (row), the nearest of its hits on the shapes (columns) and that hit's cosine."""
    if t.shape[1] == 1:
        return t[:, 0], cosine[:, 0]
    k = t.argmin(1)[:, None]
    return np.take_along_axis(t, k, 1)[:, 0], np.take_along_axis(cosine, k, 1)[:, 0]
