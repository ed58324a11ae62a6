"""nuScenes' true-positive errors of matched cuboid pairs, vectorised: translation, scale, orientation.

Rows are ``(K, 7)`` cuboid arrays (x, y, z, length, width, height, yaw) as
:mod:`analysis.geometry.cuboids` stores them. Each function equals its
``nuscenes.eval.common.utils`` namesake applied pair by pair.
"""

from __future__ import annotations

import numpy as np

from analysis.annotations.model import FloatArray
from analysis.geometry.cuboid_overlaps import HEIGHT, LENGTH, YAW, centre_distance

FULL_TURN = 2 * np.pi  # nuScenes' orientation period; π for classes symmetric under a half turn (its barriers)


def translation_error(d: FloatArray, g: FloatArray) -> FloatArray:
    """Bird's-eye-view distance between the centres (``center_distance``)."""
    return centre_distance(d, g)


def scale_iou(d: FloatArray, g: FloatArray) -> FloatArray:
    """IoU of the two cuboids aligned and centred on each other (``scale_iou``); 0 where both have no volume."""
    sd, sg = d[:, LENGTH:HEIGHT + 1], g[:, LENGTH:HEIGHT + 1]
    inter = np.prod(np.minimum(sd, sg), axis=1)
    union = np.prod(sd, axis=1) + np.prod(sg, axis=1) - inter
    out = np.zeros(len(d), dtype=np.float64)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def scale_error(d: FloatArray, g: FloatArray) -> FloatArray:
    """``1 - scale_iou``."""
    return 1.0 - scale_iou(d, g)


def orientation_error(d: FloatArray, g: FloatArray, period: float | FloatArray = FULL_TURN) -> FloatArray:
    """The smallest yaw difference in [0, π], yaws taken modulo ``period`` (``yaw_diff``)."""
    diff = np.mod(g[:, YAW] - d[:, YAW] + period / 2, period) - period / 2
    return np.abs(np.where(diff > np.pi, diff - 2 * np.pi, diff))
