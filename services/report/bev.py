"""A point cloud seen from above with two sets of cuboids: the replay gallery's picture of a 3D disagreement.

Bird's-eye view of the vehicle frame (x forward up the picture, y left to the left, metres): the
points in grey, dimmer with range and dimmest on the ground, range rings every 10 m, the sensor at
the bottom centre, and each cuboid as its rotated footprint with a tick towards its heading,
people's in green and the machine's in red (the 2D gallery's colours), with a legend.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from services.report.gallery import HUMAN, MACHINE

FORWARD, SIDE = 60.0, 30.0  # metres shown: x in [0, FORWARD], y in [-SIDE, SIDE]
SCALE = 8  # pixels per metre
GROUND = 0.25  # points lower than this (m) are ground returns
RING_EVERY = 10.0
BACKGROUND, RING = (12, 14, 18), (48, 54, 64)
Footprint = tuple[Sequence[float], str]  # ((x, y, z, length, width, height, yaw), label)


@dataclass(frozen=True, eq=False)
class BirdsEye:
    """One sweep's points (N, >= 3: x, y, z, ...) and the two annotations of it to draw."""

    points: np.ndarray
    human: Sequence[Footprint]
    machine: Sequence[Footprint]


def render_bev(item: BirdsEye) -> bytes:
    """PNG bytes of the sweep from above with both sets of cuboids, a range ring every 10 m and a legend."""
    width, height = int(2 * SIDE * SCALE), int(FORWARD * SCALE)
    picture = Image.fromarray(_points(item.points, width, height), "RGB")
    draw = ImageDraw.Draw(picture)
    _rings(draw, width, height)
    for cuboids, colour, below in ((item.human, HUMAN, False), (item.machine, MACHINE, True)):
        for box, label in cuboids:
            _cuboid(draw, box, label, colour, height, below=below)
    _legend(draw)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _at(x: float, y: float, height: int) -> tuple[float, float]:
    """Picture column and row of the vehicle-frame ground point (x, y)."""
    return (SIDE - y) * SCALE, height - x * SCALE


def _points(points: np.ndarray, width: int, height: int) -> np.ndarray:
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    if len(points) == 0:
        return canvas
    x, y, z = (points[:, k].astype(np.float64) for k in range(3))
    col, row = np.floor((SIDE - y) * SCALE).astype(np.int64), np.floor(height - x * SCALE).astype(np.int64)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    near = 1.0 - 0.6 * np.clip(np.hypot(x, y) / FORWARD, 0.0, 1.0)
    grey = np.where(z < GROUND, 95.0, 225.0) * near
    shade = np.zeros((height + 1, width + 1))
    np.maximum.at(shade, (row[inside], col[inside]), grey[inside])
    raised = inside & (z >= GROUND)  # what stands on the ground, two pixels wide
    for dr, dc in ((0, 1), (1, 0), (1, 1)):
        np.maximum.at(shade, (row[raised] + dr, col[raised] + dc), grey[raised])
    shade = shade[:height, :width]
    lit = shade > 0
    canvas[lit] = np.maximum(shade[lit, None], BACKGROUND).astype(np.uint8)
    return canvas


def _rings(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    cx = SIDE * SCALE
    for k in range(1, int(FORWARD / RING_EVERY) + 1):
        r = k * RING_EVERY * SCALE
        draw.arc([cx - r, height - r, cx + r, height + r], 180, 360, fill=RING)
        draw.text((cx + 3, height - r + 2), f"{k * RING_EVERY:g} m", fill=RING)
    draw.polygon([(cx, height - 10), (cx - 5, height), (cx + 5, height)], fill=(200, 200, 200))


def _cuboid(draw: ImageDraw.ImageDraw, box: Sequence[float], label: str, colour: tuple[int, int, int],
            height: int, *, below: bool) -> None:
    x, y, _, length, width, _, yaw = (float(v) for v in box[:7])
    c, s = math.cos(yaw), math.sin(yaw)
    corners = [(x + a * c - b * s, y + a * s + b * c) for a, b in
               ((length / 2, width / 2), (-length / 2, width / 2), (-length / 2, -width / 2), (length / 2, -width / 2))]
    outline = [_at(u, v, height) for u, v in corners]
    draw.polygon(outline, outline=colour, width=2)
    draw.line([_at(x, y, height), _at(x + c * length / 2, y + s * length / 2, height)], fill=colour, width=2)
    left, top, bottom = min(p[0] for p in outline), min(p[1] for p in outline), max(p[1] for p in outline)
    draw.text((max(left, 0.0), min(bottom + 1, height - 11.0) if below else max(top - 11, 0.0)), label, fill=colour)


def _legend(draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle([6, 6, 112, 44], fill=BACKGROUND, outline=RING)
    for k, (name, colour) in enumerate((("people", HUMAN), ("machine", MACHINE))):
        top = 12 + 16 * k
        draw.rectangle([12, top, 26, top + 9], outline=colour, width=2)
        draw.text((34, top - 1), name, fill=colour)
