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
(bird's-eye-view, length × width); height is the 3D height. The matcher's IoU is the 3D IoU.
Sizes of zero are allowed: a cuboid without volume overlaps nothing (3D IoU 0), one without
footprint too (BEV IoU 0).

Overlaps are exact: the area of one footprint inside the other is integrated along its boundary
(Green's theorem), vectorised over pairs; pairs whose circumscribed circles (or height ranges)
are apart are 0 without integrating.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import BoolArray, FloatArray, IntArray, Objects
from analysis.exceptions import InvalidInput
from analysis.geometry.registry import register

DTYPE = np.dtype([("box", np.float64, (7,)), ("frame", object), ("quaternion", np.float64, (4,))])
X, Y, Z, LENGTH, WIDTH, HEIGHT, YAW = range(7)
_MAX_TILT = 1e-6  # sine of the largest roll/pitch a quaternion may carry and still count as upright
Quaternion = tuple[float, float, float, float]  # w, x, y, z


class Cuboid(NamedTuple):
    """One cuboid as read from the wire."""

    centre: tuple[float, float, float]
    size: tuple[float, float, float]  # length, width, height
    yaw: float  # the heading about the up axis (of ``quaternion`` when one is given)
    frame: str = ""
    quaternion: Quaternion | None = None  # [w, x, y, z] of a tilted box as given; None for an upright one


@register
class CuboidGeometry:
    """3D IoU of upright cuboids; also BEV centre distance for nuScenes-style matching."""

    kind = "cuboid3d"
    aliases: tuple[str, ...] = ()

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
        d, g = _pairs(dt, gt, dt_idx, gt_idx, self.kind)
        return iou_3d(d, g, gt.crowd[gt_idx])

    def footprint(self, objects: Objects) -> tuple[FloatArray, FloatArray]:
        """Each cuboid's BEV centre (N, 2) and the radius of the circle around its footprint: the
        matcher pairs only cuboids close enough to overlap (``analysis.matching.pairs.near_pairs``)."""
        box: FloatArray = objects.geometry[self.kind]["box"]
        return box[:, X:Y + 1], np.hypot(box[:, LENGTH], box[:, WIDTH]) / 2

    def pair_distance(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        """Bird's-eye-view distance between the centres of each pair (nuScenes' ``center_distance``)."""
        d, g = _pairs(dt, gt, dt_idx, gt_idx, self.kind)
        return centre_distance(d, g)


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
    d, g = dt.geometry[kind], gt.geometry[kind]
    if len(set(d["frame"].tolist()) | set(g["frame"].tolist())) > 1:
        _, codes = np.unique(np.concatenate([d["frame"], g["frame"]]).astype(str), return_inverse=True)
        d_code, g_code = codes[: len(d)], codes[len(d):]
        apart = np.flatnonzero(d_code[dt_idx] != g_code[gt_idx])
        if len(apart):
            i, j = int(dt_idx[apart[0]]), int(gt_idx[apart[0]])
            raise InvalidInput("comparison", f"cuboids {i} and {j}", f"are in different coordinate systems "
                               f"({d['frame'][i]!r} and {g['frame'][j]!r})")
    return d["box"][dt_idx], g["box"][gt_idx]


def centre_distance(d: FloatArray, g: FloatArray) -> FloatArray:
    """Row-wise BEV distance between the centres of two (K, 7) cuboid arrays."""
    return np.hypot(d[:, X] - g[:, X], d[:, Y] - g[:, Y])


def bev_iou(d: FloatArray, g: FloatArray) -> FloatArray:
    """Row-wise bird's-eye-view IoU of two (K, 7) cuboid arrays (0 where a footprint has no area)."""
    inter = bev_intersection(d, g)
    union = d[:, LENGTH] * d[:, WIDTH] + g[:, LENGTH] * g[:, WIDTH] - inter
    return _ratio(inter, union)


def iou_3d(d: FloatArray, g: FloatArray, crowd: BoolArray | None = None) -> FloatArray:
    """Row-wise 3D IoU of two (K, 7) cuboid arrays: footprint intersection × height overlap over the
    union of volumes (0 where a cuboid has no volume); for ``crowd`` rows, over ``d``'s volume."""
    low = np.maximum(d[:, Z] - d[:, HEIGHT] / 2, g[:, Z] - g[:, HEIGHT] / 2)
    high = np.minimum(d[:, Z] + d[:, HEIGHT] / 2, g[:, Z] + g[:, HEIGHT] / 2)
    overlap = np.maximum(high - low, 0.0)
    inter = bev_intersection(d, g, overlap > 0) * overlap
    vol_d = d[:, LENGTH] * d[:, WIDTH] * d[:, HEIGHT]
    union = vol_d + g[:, LENGTH] * g[:, WIDTH] * g[:, HEIGHT] - inter
    if crowd is not None:
        union = np.where(crowd, vol_d, union)
    return _ratio(inter, union)


def _ratio(inter: FloatArray, union: FloatArray) -> FloatArray:
    out = np.zeros(len(inter), dtype=np.float64)
    np.divide(inter, union, out=out, where=(inter > 0) & (union > 0))
    return np.minimum(out, 1.0)


def bev_intersection(d: FloatArray, g: FloatArray, wanted: BoolArray | None = None) -> FloatArray:
    """Row-wise area of the intersection of two (K, 7) cuboid arrays' footprints (rows not
    ``wanted``, and rows whose circumscribed circles are apart, are 0 without integrating)."""
    rd = np.hypot(d[:, LENGTH], d[:, WIDTH]) / 2
    rg = np.hypot(g[:, LENGTH], g[:, WIDTH]) / 2
    dx, dy = d[:, X] - g[:, X], d[:, Y] - g[:, Y]
    near = dx * dx + dy * dy <= (rd + rg) ** 2
    near &= (d[:, LENGTH] * d[:, WIDTH] > 0) & (g[:, LENGTH] * g[:, WIDTH] > 0)
    if wanted is not None:
        near &= wanted
    rows = np.flatnonzero(near)
    out = np.zeros(len(d), dtype=np.float64)
    for chunk in np.array_split(rows, len(rows) // _CHUNK + 1) if len(rows) else ():
        out[chunk] = _overlap_in_frame_of(d[chunk], g[chunk])
    return out


_CHUNK = 20_000  # pairs integrated at once: temporaries of ~1 MB stay in cache


def _overlap_in_frame_of(d: FloatArray, g: FloatArray) -> FloatArray:
    """Area of ``d``'s footprint inside ``g``'s, in ``g``'s frame, where ``g`` is the box
    [-l/2, l/2] × [-w/2, w/2].

    By Green's theorem, the area of D ∩ [x0, x1] × [y0, y1] is the integral around D's
    boundary (counter-clockwise) of ``(clamp(x, x0, x1) - x0) · [y0 <= y <= y1] dy``. Along
    an edge of D, y is within range on one interval of the edge, cut where x crosses x0 and
    x1 into pieces on which the integrand is linear, so the trapezoid rule is exact. Only
    D's boundary is walked: no polygon is built, and edges lying on g's edges need no special case.
    """
    c, s = np.cos(g[:, YAW]), np.sin(g[:, YAW])
    dx, dy = d[:, X] - g[:, X], d[:, Y] - g[:, Y]
    corners = _corners(c * dx + s * dy, c * dy - s * dx, d[:, LENGTH], d[:, WIDTH], d[:, YAW] - g[:, YAW])
    xa, ya = corners[..., 0], corners[..., 1]  # (K, 4): edge k runs from corner k to corner k + 1
    ex, ey = np.roll(xa, -1, axis=1) - xa, np.roll(ya, -1, axis=1) - ya
    hl, hw = (g[:, LENGTH] / 2)[:, None], (g[:, WIDTH] / 2)[:, None]
    sx, sy = np.where(ex == 0, 1.0, ex), np.where(ey == 0, 1.0, ey)  # x constant: any cut will do; y: no area
    lo_y, hi_y = (-hw - ya) / sy, (hw - ya) / sy
    p = np.clip(np.minimum(lo_y, hi_y), 0.0, 1.0)
    q = np.clip(np.maximum(lo_y, hi_y), 0.0, 1.0)
    lo_x, hi_x = (-hl - xa) / sx, (hl - xa) / sx
    cut1 = np.clip(np.minimum(lo_x, hi_x), p, q)
    cut2 = np.clip(np.maximum(lo_x, hi_x), p, q)
    h = [np.clip(xa + t * ex, -hl, hl) + hl for t in (p, cut1, cut2, q)]
    pieces = (cut1 - p) * (h[0] + h[1]) + (cut2 - cut1) * (h[1] + h[2]) + (q - cut2) * (h[2] + h[3])
    twice: FloatArray = (ey * pieces).sum(axis=1)
    return np.maximum(twice / 2, 0.0)


def _corners(x: FloatArray, y: FloatArray, length: FloatArray, width: FloatArray, yaw: FloatArray) -> FloatArray:
    """(K, 4, 2) footprint corners, counter-clockwise."""
    c, s = np.cos(yaw), np.sin(yaw)
    hl, hw = length / 2, width / 2
    u = np.array([1.0, -1.0, -1.0, 1.0])
    v = np.array([1.0, 1.0, -1.0, -1.0])
    px = x[:, None] + (c * hl)[:, None] * u - (s * hw)[:, None] * v
    py = y[:, None] + (s * hl)[:, None] * u + (c * hw)[:, None] * v
    return np.stack([px, py], axis=-1)
