"""Footprints on the ground taken so far: a new rotated rectangle is placed only where it overlaps none."""

from __future__ import annotations

import math

Rect = tuple[float, float, float, float, float]  # x, y, length, width, yaw


class Occupancy:
    """Rotated rectangles on the ground; circles around them rule out most pairs before a separating-axis test."""

    def __init__(self) -> None:
        self._rects: list[tuple[Rect, float]] = []

    def add(self, x: float, y: float, length: float, width: float, yaw: float, margin: float = 0.0) -> bool:
        """Take the rectangle if it keeps ``margin`` metres from every one taken; whether it was taken."""
        rect = (x, y, length + margin, width + margin, yaw)
        radius = math.hypot(rect[2], rect[3]) / 2
        for other, other_radius in self._rects:
            if math.hypot(x - other[0], y - other[1]) < radius + other_radius and overlap(rect, other):
                return False
        self._rects.append((rect, radius))
        return True


def overlap(a: Rect, b: Rect) -> bool:
    """Whether two rotated rectangles overlap: no separating axis among their four edge directions."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    for yaw in (a[4], a[4] + math.pi / 2, b[4], b[4] + math.pi / 2):
        ux, uy = math.cos(yaw), math.sin(yaw)
        if abs(dx * ux + dy * uy) >= _reach(a, ux, uy) + _reach(b, ux, uy):
            return False
    return True


def _reach(rect: Rect, ux: float, uy: float) -> float:
    """Half the rectangle's extent along the unit direction (ux, uy)."""
    c, s = math.cos(rect[4]), math.sin(rect[4])
    return abs(ux * c + uy * s) * rect[2] / 2 + abs(-ux * s + uy * c) * rect[3] / 2
