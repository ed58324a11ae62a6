"""Exact BEV and 3D overlaps of rotated cuboids, vectorised over index pairs.

Rows are ``(N, 7)`` cuboid arrays: x, y, z (the centre), length, width, height, yaw. Each
side is first reduced to per-object columns (:class:`Cuboids`), so a pair costs gathers of
a few numbers, not of whole rows. A pair is integrated only when cheap bounds leave it a
chance: circumscribed circles that meet, height ranges that overlap, and (given a threshold
``at_least``) the largest IoU its footprint sizes and volumes allow; every pair skipped is
0 or provably below ``at_least``, so the IoU of every other pair is exact.

The footprint intersection is integrated along one footprint's boundary (Green's theorem):
no polygon is built, and edges lying on the other footprint's edges need no special case.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from analysis.annotations.model import BoolArray, FloatArray, IntArray

X, Y, Z, LENGTH, WIDTH, HEIGHT, YAW = range(7)
_CHUNK = 4096  # pairs integrated at once: temporaries of 128 KB stay in cache and off mmap
_SLACK = 1e-9  # relative margin of the pruning bounds over rounding: a pair at the threshold is integrated


class Cuboids(NamedTuple):
    """Per-object columns of an ``(N, 7)`` cuboid array, each contiguous (pairs gather from them)."""

    x: FloatArray
    y: FloatArray
    low: FloatArray  # bottom and top of the height range
    high: FloatArray
    half_length: FloatArray
    half_width: FloatArray
    cos: FloatArray  # of the yaw
    sin: FloatArray
    radius: FloatArray  # of the circle around the footprint
    area: FloatArray  # of the footprint
    volume: FloatArray

    @classmethod
    def of(cls, box: FloatArray) -> Cuboids:
        x, y, z, length, width, height, yaw = np.array(box, dtype=np.float64, order="F").T  # box: often strided
        half_h, hl, hw = height / 2, length / 2, width / 2
        area = length * width
        return cls(
            x, y, z - half_h, z + half_h, hl, hw, np.cos(yaw), np.sin(yaw), radius(length, width), area, area * height
        )


def radius(length: FloatArray, width: FloatArray) -> FloatArray:
    """Of the circle around a footprint."""
    out: FloatArray = np.sqrt(length * length + width * width) / 2
    return out


def pair_overlaps(
    d: Cuboids,
    g: Cuboids,
    dp: IntArray,
    gp: IntArray,
    *,
    bev: bool = False,
    crowd: BoolArray | None = None,
    at_least: float = 0.0,
) -> FloatArray:
    """IoU of each pair ``(d[dp[k]], g[gp[k]])``: 3D, or of the footprints (``bev``); for pairs
    marked ``crowd`` (one flag a pair), over ``d``'s volume (area). Pairs provably below
    ``at_least`` may be 0 instead."""
    out = np.zeros(len(dp), dtype=np.float64)
    ex, ey = d.x[dp] - g.x[gp], d.y[dp] - g.y[gp]
    reach = d.radius[dp] + g.radius[gp]
    rows = np.flatnonzero(ex * ex + ey * ey <= reach * reach)
    a, b = dp[rows], gp[rows]
    height = 1.0 if bev else np.minimum(d.high[a], g.high[b]) - np.maximum(d.low[a], g.low[b])
    size_d, size_g = (d.area[a], g.area[b]) if bev else (d.volume[a], g.volume[b])
    bound = np.minimum(d.area[a], g.area[b]) * height  # no intersection is larger
    union = size_d + size_g - bound  # nor is a union smaller
    crowd = None if crowd is None else crowd[rows]
    if crowd is not None:
        union = np.where(crowd, size_d, union)
    kept = np.flatnonzero((bound > 0) & (bound >= (1 - _SLACK) * at_least * union))
    rows, a, b = rows[kept], a[kept], b[kept]
    inter = footprint_intersection(d, g, a, b)
    if not bev:
        inter *= np.asarray(height)[kept]
    size_d, size_g = size_d[kept], size_g[kept]
    union = size_d + size_g - inter
    if crowd is not None:
        union = np.where(crowd[kept], size_d, union)
    iou = np.zeros(len(rows), dtype=np.float64)
    np.divide(inter, union, out=iou, where=(inter > 0) & (union > 0))
    out[rows] = np.minimum(iou, 1.0)
    return out


def footprint_intersection(d: Cuboids, g: Cuboids, dp: IntArray, gp: IntArray) -> FloatArray:
    """Area of the intersection of the footprints of each pair ``(d[dp[k]], g[gp[k]])``."""
    out = np.empty(len(dp), dtype=np.float64)
    for lo in range(0, len(dp), _CHUNK):
        a, b = dp[lo : lo + _CHUNK], gp[lo : lo + _CHUNK]
        cg, sg, cd, sd = g.cos[b], g.sin[b], d.cos[a], d.sin[a]
        ex, ey = d.x[a] - g.x[b], d.y[a] - g.y[b]
        twice = _twice_inside(
            cg * ex + sg * ey,
            cg * ey - sg * ex,
            d.half_length[a],
            d.half_width[a],
            cd * cg + sd * sg,
            sd * cg - cd * sg,
            g.half_length[b],
            g.half_width[b],
        )
        out[lo : lo + _CHUNK] = np.maximum(twice / 2, 0.0)
    return out


def _twice_inside(
    cx: FloatArray,
    cy: FloatArray,
    hl: FloatArray,
    hw: FloatArray,
    c: FloatArray,
    s: FloatArray,
    gl: FloatArray,
    gw: FloatArray,
) -> FloatArray:
    """Twice the area of the rectangle centred at ``(cx, cy)`` with half-sizes ``hl × hw``, turned by
    the angle of cosine ``c`` and sine ``s``, inside ``[-gl, gl] × [-gw, gw]``.

    By Green's theorem, the area of D ∩ [x0, x1] × [y0, y1] is the integral around D's boundary
    (counter-clockwise) of ``(clamp(x, x0, x1) - x0) · [y0 <= y <= y1] dy``. Along an edge of D,
    y is within range on one interval of the edge, cut where x crosses x0 and x1 into pieces on
    which the integrand is linear, so the trapezoid rule is exact. Arrays are (4, K): edge k runs
    from corner k to corner k + 1.
    """
    a, b, e, f = hl * c, hw * s, hl * s, hw * c
    xa, ya, dx, dy = (np.empty((4, len(cx))) for _ in range(4))
    xa[0], xa[1], xa[2], xa[3] = cx + (a - b), cx - (a + b), cx - (a - b), cx + (a + b)
    ya[0], ya[1], ya[2], ya[3] = cy + (e + f), cy - (e - f), cy - (e + f), cy + (e - f)
    dx[0], dx[1], dx[2], dx[3] = -2 * a, 2 * b, 2 * a, -2 * b
    dy[0], dy[1], dy[2], dy[3] = -2 * e, -2 * f, 2 * e, 2 * f
    p, q = _within(ya, dy, gw, 0.0, 1.0)  # the part of the edge inside the y range
    cut1, cut2 = _within(xa, dx, gl, p, q)  # where x crosses the x range's ends, inside [p, q]
    h0, h1, h2, h3 = (_clamped(xa, dx, t, gl) for t in (p, cut1, cut2, q))
    h0 += h1
    h1 += h2
    h2 += h3
    pieces = (cut1 - p) * h0
    pieces += (cut2 - cut1) * h1
    pieces += (q - cut2) * h2
    pieces += 2 * gl * (q - p)  # the clamped x measured from x0 = -gl, in each piece's two ends
    pieces *= dy
    twice: FloatArray = pieces.sum(axis=0)
    return twice


def _within(
    start: FloatArray,
    step: FloatArray,
    half: FloatArray,
    lo: FloatArray | float,
    hi: FloatArray | float,
) -> tuple[FloatArray, FloatArray]:
    """The parameters ``t`` in ``[lo, hi]`` where ``start + t · step`` enters and leaves
    ``[-half, half]`` (a constant coordinate, ``step`` 0: any cut will do, the piece has no area or
    is cut nowhere that matters)."""
    inv = np.where(step == 0, 1.0, step)
    np.divide(1.0, inv, out=inv)
    t1, t2 = (-half - start) * inv, (half - start) * inv
    enter, leave = np.minimum(t1, t2), np.maximum(t1, t2, out=t2)
    for t in (enter, leave):
        np.maximum(t, lo, out=t)
        np.minimum(t, hi, out=t)
    return enter, leave


def _clamped(start: FloatArray, step: FloatArray, t: FloatArray, half: FloatArray) -> FloatArray:
    v = t * step
    v += start
    np.maximum(v, -half, out=v)
    np.minimum(v, half, out=v)
    return v


def centre_distance(d: FloatArray, g: FloatArray) -> FloatArray:
    """Row-wise BEV distance between the centres of two (K, 7) cuboid arrays."""
    return np.hypot(d[:, X] - g[:, X], d[:, Y] - g[:, Y])


def yaw_difference(d: FloatArray, g: FloatArray) -> FloatArray:
    """Row-wise smallest difference in [0, π] between the yaws of two (K, 7) cuboid arrays
    (nuScenes' ``yaw_diff`` with its full-turn period)."""
    diff = np.mod(g[:, YAW] - d[:, YAW] + np.pi, 2 * np.pi) - np.pi
    return np.abs(np.where(diff > np.pi, diff - 2 * np.pi, diff))


def bev_iou(d: FloatArray, g: FloatArray, crowd: BoolArray | None = None) -> FloatArray:
    """Row-wise bird's-eye-view IoU of two (K, 7) cuboid arrays (0 where a footprint has no area);
    for ``crowd`` rows, over ``d``'s footprint."""
    rows = np.arange(len(d))
    return pair_overlaps(Cuboids.of(d), Cuboids.of(g), rows, rows, bev=True, crowd=crowd)


def iou_3d(d: FloatArray, g: FloatArray, crowd: BoolArray | None = None) -> FloatArray:
    """Row-wise 3D IoU of two (K, 7) cuboid arrays: footprint intersection × height overlap over the
    union of volumes (0 where a cuboid has no volume); for ``crowd`` rows, over ``d``'s volume."""
    rows = np.arange(len(d))
    return pair_overlaps(Cuboids.of(d), Cuboids.of(g), rows, rows, crowd=crowd)
