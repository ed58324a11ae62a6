"""OpenLABEL ``bbox`` and ``cuboid`` values to and from shadowqa's ``box2d`` and ``cuboid3d`` kinds.

A bbox ``[cx, cy, w, h]`` (centre) is the box2d ``[cx - w/2, cy - h/2, w, h]`` (top-left corner):
exact, and exactly invertible wherever the coordinates' binary fractions fit (pixel coordinates in
multiples of 1/64 up to 2^40, say). A cuboid's ``(sx, sy, sz)`` are its length (along its own x
axis, the heading), width and height. Its rotation, Euler ``(rx, ry, rz)`` with R = Rz(rz)·Ry(ry)·Rx(rx)
(VCD's ``euler2R``) or a quaternion ``(qx, qy, qz, qw)``, becomes the cuboid3d's yaw when upright and
its quaternion ``[w, x, y, z]`` when tilted; a cuboid3d is written with Euler angles ``(0, 0, yaw)``
when upright and with its quaternion when tilted.
"""

from __future__ import annotations

import math

from analysis.geometry.cuboids import Cuboid, Quaternion, heading
from services.io.openlabel.document import Shape

BOX_NAME, CUBOID_NAME = "shape", "box3D"  # the element data names the ASAM examples use


def box_of(shape: Shape) -> tuple[float, float, float, float]:
    cx, cy, w, h = shape.val
    return cx - w / 2, cy - h / 2, w, h


def bbox_of(box: tuple[float, ...] | list[float]) -> Shape:
    x, y, w, h = (float(v) for v in box)
    return Shape("bbox", BOX_NAME, (x + w / 2, y + h / 2, w, h))


def cuboid_of(shape: Shape) -> Cuboid:
    val = shape.val
    centre, size = (val[0], val[1], val[2]), (val[-3], val[-2], val[-1])
    if len(val) == 9:
        rx, ry, rz = val[3:6]
        if rx == 0.0 and ry == 0.0:
            return Cuboid(centre, size, rz, shape.coordinate_system)
        quaternion = euler_quaternion(rx, ry, rz)
    else:
        qx, qy, qz, qw = val[3:7]
        quaternion = (qw, qx, qy, qz)
    yaw, tilted = heading(quaternion)
    return Cuboid(centre, size, yaw, shape.coordinate_system, quaternion if tilted else None)


def shape_of_cuboid(cuboid: Cuboid) -> Shape:
    val: tuple[float, ...]
    if cuboid.quaternion is None:
        val = (*cuboid.centre, 0.0, 0.0, cuboid.yaw, *cuboid.size)
    else:
        w, x, y, z = cuboid.quaternion
        val = (*cuboid.centre, x, y, z, w, *cuboid.size)
    return Shape("cuboid", CUBOID_NAME, tuple(float(v) for v in val), cuboid.frame)


def euler_quaternion(rx: float, ry: float, rz: float) -> Quaternion:
    """``[w, x, y, z]`` of R = Rz(rz)·Ry(ry)·Rx(rx) (roll ``rx``, then pitch ``ry``, then yaw ``rz``)."""
    cx, sx = math.cos(rx / 2), math.sin(rx / 2)
    cy, sy = math.cos(ry / 2), math.sin(ry / 2)
    cz, sz = math.cos(rz / 2), math.sin(rz / 2)
    return (cz * cy * cx + sz * sy * sx, cz * cy * sx - sz * sy * cx,
            cz * sy * cx + sz * cy * sx, sz * cy * cx - cz * sy * sx)
