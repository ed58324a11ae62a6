"""``cuboid3d``: 3D boxes (centre, size, rotation) in a named coordinate system, in metres.

Wire form ``{"type": "cuboid3d", "centre": [x, y, z], "size": [length, width, height], "yaw": r}``
or, instead of ``yaw``, ``"quaternion": [w, x, y, z]``, plus an optional ``"frame"`` naming the
coordinate system. ``z`` is the centre's height; ``length`` runs along the heading, which is
``yaw`` radians from the x axis, counter-clockwise seen from above.

A quaternion keeps the full rotation: one that tilts the box (roll or pitch beyond 1e-6 rad, as
OpenLABEL's cuboids may) is stored as given and written back unchanged; an upright one is the
same as its yaw and is written as ``yaw``. Overlaps, matching and orientation errors use the
heading about the up axis only (nuScenes' ``quaternion_yaw``: the direction the box's length
axis points to, seen from above), exactly as nuScenes evaluates its boxes, so a tilted box
counts as the upright box with the same centre, size and heading.

Column block: a structured array with ``box`` (N, 7: x, y, z, length, width, height, yaw),
``frame`` (the coordinate system's name, ``""`` when none is given) and ``quaternion`` (N, 4:
``[w, x, y, z]`` of a tilted box, NaN for an upright one). Area is the footprint
(bird's-eye-view, length × width); height is the 3D height. The matcher's IoU is the 3D IoU, or
the footprints' (BEV) IoU of the kind taken ``with_overlap("bev")`` (a quality spec's
``overlap: bev``). Sizes of zero are allowed: a cuboid without volume overlaps nothing (3D IoU
0), one without footprint too (BEV IoU 0).

Overlaps are exact (:mod:`analysis.geometry.cuboid_overlaps`): the area of one footprint inside
the other is integrated along its boundary (Green's theorem), vectorised over pairs; pairs that
cannot overlap (or, for the matcher, cannot reach its IoU threshold) are skipped without integrating.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import BoolArray, FloatArray, IntArray, Objects
from analysis.exceptions import InvalidInput
from analysis.geometry.cuboid_overlaps import (
    HEIGHT,
    LENGTH,
    WIDTH,
    Cuboids,
    X,
    Y,
    bev_iou,
    centre_distance,
    iou_3d,
    pair_overlaps,
    radius,
    yaw_difference,
)
from analysis.geometry.registry import register

__all__ = [
    "DTYPE",
    "OVERLAPS",
    "Cuboid",
    "CuboidGeometry",
    "Quaternion",
    "bev_iou",
    "centre_distance",
    "heading",
    "iou_3d",
    "quaternion_yaw",
    "read_quaternion",
]

DTYPE = np.dtype([("box", np.float64, (7,)), ("frame", object), ("quaternion", np.float64, (4,))])
OVERLAPS = ("3d", "bev")  # the IoUs a cuboid pair has: of the cuboids, or of their footprints
_MAX_TILT = 1e-6  # sine of the largest roll/pitch a quaternion may carry and still count as upright
Quaternion = tuple[float, float, float, float]  # w, x, y, z


class NearPairs(Protocol):
    """``analysis.matching.pairs.near_pairs``: the matcher's grid of candidate pairs."""

    def __call__(
        self, dt_key: IntArray, gt_key: IntArray, n_keys: int, dt_xy: FloatArray, gt_xy: FloatArray, reach: float,
        *, ordered: bool = True,
    ) -> tuple[IntArray, IntArray]: ...


class Cuboid(NamedTuple):
    """One cuboid as read from the wire."""

    centre: tuple[float, float, float]
    size: tuple[float, float, float]  # length, width, height
    yaw: float  # the heading about the up axis (of ``quaternion`` when one is given)
    frame: str = ""
    quaternion: Quaternion | None = None  # [w, x, y, z] of a tilted box as given; None for an upright one


@register
class CuboidGeometry:
    """3D (or BEV) IoU of upright cuboids; also BEV centre distance and yaw difference for nuScenes-style
    matching and heading limits."""

    kind = "cuboid3d"
    aliases: tuple[str, ...] = ()

    def __init__(self, overlap: str = "3d") -> None:
        if overlap not in OVERLAPS:
            raise InvalidInput("options", "overlap", f"unknown overlap '{overlap}' (known: {', '.join(OVERLAPS)})")
        self.overlap = overlap

    def with_overlap(self, overlap: str) -> CuboidGeometry:
        """The kind with its IoU read from ``overlap``: ``3d`` (the default) or ``bev`` (footprints only)."""
        return CuboidGeometry(overlap)

    def read(self, doc: Mapping[str, Any], source: str, where: str) -> Cuboid:
        centre = _triple(checks.field(doc, "centre", source, where), source, f"{where}.centre", None)
        size = _triple(checks.field(doc, "size", source, where), source, f"{where}.size", 0.0)
        if ("yaw" in doc) == ("quaternion" in doc):
            raise InvalidInput(source, where, "give exactly one of 'yaw' and 'quaternion'")
        frame = checks.text(doc["frame"], source, f"{where}.frame") if "frame" in doc else ""
        if "yaw" in doc:
            return Cuboid(centre, size, checks.number(doc["yaw"], source, f"{where}.yaw"), frame)
        quaternion = read_quaternion(doc["quaternion"], source, f"{where}.quaternion")
        yaw, tilted = heading(quaternion)
        return Cuboid(centre, size, yaw, frame, quaternion if tilted else None)

    def write(self, value: Cuboid) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.kind, "centre": list(value.centre), "size": list(value.size)}
        if value.quaternion is None:
            doc["yaw"] = value.yaw
        else:
            doc["quaternion"] = list(value.quaternion)
        if value.frame:
            doc["frame"] = value.frame
        return doc

    def column(self, values: Sequence[Cuboid]) -> np.ndarray[Any, np.dtype[np.void]]:
        block = np.zeros(len(values), dtype=DTYPE)
        if values:
            block["box"] = [(*c.centre, *c.size, c.yaw) for c in values]
            block["frame"] = [c.frame for c in values]
            block["quaternion"] = [_UPRIGHT if c.quaternion is None else c.quaternion for c in values]
        return block

    def area(self, column: np.ndarray[Any, np.dtype[np.void]]) -> FloatArray:
        box: FloatArray = column["box"]
        return box[:, LENGTH] * box[:, WIDTH]

    def extent(self, column: np.ndarray[Any, np.dtype[np.void]]) -> FloatArray:
        box: FloatArray = column["box"]
        return box[:, HEIGHT].copy()

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        return self.pair_iou_at_least(dt, gt, dt_idx, gt_idx, 0.0)

    def pair_iou_at_least(
        self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray, at_least: float,
    ) -> FloatArray:
        """:meth:`pair_iou`, except that a pair provably below ``at_least`` may be 0: what a matcher
        with that threshold needs, without integrating pairs that cannot reach it."""
        (d, dp), (g, gp) = _columns(dt, gt, dt_idx, gt_idx, self.kind)
        return pair_overlaps(d, g, dp, gp, bev=self.overlap == "bev", crowd=_crowd(gt, gt_idx), at_least=at_least)

    def pairs_at_least(
        self, dt: Objects, gt: Objects, dt_key: IntArray, gt_key: IntArray, n_keys: int, at_least: float,
        near_pairs: NearPairs,
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """The pairs sharing a key (-1: none) whose IoU is ``at_least`` (> 0), in no particular order,
        and their IoU: candidates from the matcher's grid (``near_pairs``, given by the caller: see
        ``analysis.matching.pairs.pairs_at_least``) on the columns the overlaps read, built once."""
        d, g = Cuboids.of(dt.geometry[self.kind]["box"]), Cuboids.of(gt.geometry[self.kind]["box"])
        reach = float((d.radius.max() if len(d.radius) else 0.0) + (g.radius.max() if len(g.radius) else 0.0))
        dp, gp = near_pairs(dt_key, gt_key, n_keys, np.column_stack((d.x, d.y)), np.column_stack((g.x, g.y)), reach,
                            ordered=False)
        _same_coordinates(dt, gt, dp, gp, self.kind)
        iou = pair_overlaps(d, g, dp, gp, bev=self.overlap == "bev", crowd=_crowd(gt, gp), at_least=at_least)
        kept = np.flatnonzero(iou >= at_least)
        return dp[kept], gp[kept], iou[kept]

    def footprint(self, objects: Objects) -> tuple[FloatArray, FloatArray]:
        """Each cuboid's BEV centre (N, 2) and the radius of the circle around its footprint: the
        matcher pairs only cuboids close enough to overlap (``analysis.matching.pairs.near_pairs``)."""
        box: FloatArray = objects.geometry[self.kind]["box"]
        return box[:, X:Y + 1], radius(box[:, LENGTH], box[:, WIDTH])

    def pair_distance(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        """Bird's-eye-view distance between the centres of each pair (nuScenes' ``center_distance``)."""
        d, g = _pairs(dt, gt, dt_idx, gt_idx, self.kind)
        return centre_distance(d, g)

    def pair_yaw_error(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        """The difference of the headings of each pair, radians in [0, π] (nuScenes' ``yaw_diff``)."""
        d, g = _pairs(dt, gt, dt_idx, gt_idx, self.kind)
        return yaw_difference(d, g)


def read_quaternion(value: Any, source: str, where: str) -> Quaternion:
    """A rotation given as ``[w, x, y, z]`` (any non-zero length), as given."""
    items = checks.as_list(value, source, where)
    if len(items) != 4:
        raise InvalidInput(source, where, f"expected [w, x, y, z], got {len(items)} values")
    w, x, y, z = (checks.number(v, source, f"{where}[{i}]") for i, v in enumerate(items))
    if w * w + x * x + y * y + z * z == 0.0:
        raise InvalidInput(source, where, "a rotation quaternion cannot be zero")
    return w, x, y, z


def heading(quaternion: Quaternion) -> tuple[float, bool]:
    """The yaw of a rotation ``[w, x, y, z]`` (nuScenes' ``quaternion_yaw``: where the rotated x axis
    points, seen from above), and whether it tilts the box's up axis off vertical (roll or pitch)."""
    w, x, y, z = quaternion
    norm = math.sqrt(w * w + x * x + y * y + z * z)
    w, x, y, z = w / norm, x / norm, y / norm, z / norm
    tilted = math.hypot(2 * (x * z + w * y), 2 * (y * z - w * x)) > _MAX_TILT
    return math.atan2(2 * (x * y + w * z), 1 - 2 * (y * y + z * z)), tilted


def quaternion_yaw(value: Any, source: str, where: str) -> float:
    """The yaw of a rotation given as ``[w, x, y, z]`` (nuScenes' ``quaternion_yaw``), tilted or not."""
    return heading(read_quaternion(value, source, where))[0]


_UPRIGHT = (math.nan,) * 4  # the column's ``quaternion`` of a box its yaw describes


def _triple(value: Any, source: str, where: str, minimum: float | None) -> tuple[float, float, float]:
    items = checks.as_list(value, source, where)
    if len(items) != 3:
        raise InvalidInput(source, where, f"expected 3 numbers, got {len(items)} value{'' if len(items) == 1 else 's'}")
    a, b, c = (checks.number(v, source, f"{where}[{i}]", minimum=minimum) for i, v in enumerate(items))
    return a, b, c


def _pairs(dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray, kind: str) -> tuple[FloatArray, FloatArray]:
    """The (K, 7) boxes of each pair; refuses a pair whose coordinate systems differ."""
    _same_coordinates(dt, gt, dt_idx, gt_idx, kind)
    return dt.geometry[kind]["box"][dt_idx], gt.geometry[kind]["box"][gt_idx]


def _columns(
    dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray, kind: str,
) -> tuple[tuple[Cuboids, IntArray], tuple[Cuboids, IntArray]]:
    """Each side's :class:`Cuboids` and the pairs' indices into them: of the objects a pair names
    (when pairs are few), else of every object; refuses a pair whose coordinate systems differ."""
    _same_coordinates(dt, gt, dt_idx, gt_idx, kind)

    def side(objects: Objects, idx: IntArray) -> tuple[Cuboids, IntArray]:
        box: FloatArray = objects.geometry[kind]["box"]
        if 4 * len(idx) < len(box):
            return Cuboids.of(box[idx]), np.arange(len(idx))
        return Cuboids.of(box), idx

    return side(dt, dt_idx), side(gt, gt_idx)


def _same_coordinates(dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray, kind: str) -> None:
    d, g = dt.geometry[kind]["frame"], gt.geometry[kind]["frame"]
    first = d[0] if len(d) else g[0] if len(g) else ""
    if (d == first).all() and (g == first).all():
        return
    _, codes = np.unique(np.concatenate([d, g]).astype(str), return_inverse=True)
    d_code, g_code = codes[: len(d)], codes[len(d):]
    apart = np.flatnonzero(d_code[dt_idx] != g_code[gt_idx])
    if len(apart):
        i, j = int(dt_idx[apart[0]]), int(gt_idx[apart[0]])
        raise InvalidInput("comparison", f"cuboids {i} and {j}", f"are in different coordinate systems "
                           f"({d[i]!r} and {g[j]!r})")


def _crowd(gt: Objects, gt_idx: IntArray) -> BoolArray | None:
    """Which pairs' manual object is a crowd region (None: none is)."""
    return gt.crowd[gt_idx] if gt.crowd.any() else None
