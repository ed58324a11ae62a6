"""A numpy canvas with colour, object-id and depth buffers, and its primitives.

Every primitive touches only the pixels inside its own bounding box, so a frame
costs in proportion to what is drawn rather than to the image size. Coordinates
are floats in pixels; pixel ``(r, c)`` covers ``[c, c + 1) x [r, r + 1)`` and a
shape covers the pixels whose centres fall inside it. The id buffer is what
occlusion is measured with: 0 is background, -1 unlabelled clutter, k > 0 the
k-th labelled object. Light sources (sky, lamps, lit windows) are painted
divided by the ambient light the frame is later multiplied by, so they come
out at their own colour however dark the scene.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

RGB = tuple[float, float, float]
Mask = npt.NDArray[np.bool_]
Region = tuple[slice, slice]

BACKGROUND = 0
CLUTTER = -1
SKY_DEPTH = 0.0  # the sky's colours already include haze, so its depth says: leave it alone
MIN_RADIUS = 0.71  # a disc this wide always covers the pixel its centre falls in


@dataclass(frozen=True)
class Glow:
    """A light source added after the scene is darkened: headlights, lamps."""

    x: float
    y: float
    radius: float
    color: RGB
    strength: float
    depth: float  # hidden, and not drawn, when something nearer covers its centre


@dataclass
class Pen:
    """What a primitive writes besides colour: the owner id, its depth, whether it emits light."""

    owner: int = BACKGROUND
    depth: float = math.inf
    emissive: bool = False


@dataclass
class Canvas:
    """Buffers of one frame being drawn; ``rgb`` is float32 in 0..255 until effects are applied."""

    width: int
    height: int
    ambient: RGB = (1.0, 1.0, 1.0)
    rgb: npt.NDArray[np.float32] = field(init=False)
    ids: npt.NDArray[np.int16] = field(init=False)
    depth: npt.NDArray[np.float32] = field(init=False)
    glows: list[Glow] = field(default_factory=list)
    pen: Pen = field(default_factory=Pen)

    def __post_init__(self) -> None:
        self.rgb = np.zeros((self.height, self.width, 3), dtype=np.float32)
        self.ids = np.zeros((self.height, self.width), dtype=np.int16)
        self.depth = np.full((self.height, self.width), np.inf, dtype=np.float32)

    def emitted(self, color: RGB) -> RGB:
        """The colour to paint for a light source of ``color``, so it survives the ambient darkening."""
        a = self.ambient
        return color[0] / a[0], color[1] / a[1], color[2] / a[2]

    def region(self, x0: float, y0: float, x1: float, y1: float) -> Region | None:
        """The pixel slices whose centres can fall inside ``[x0, x1] x [y0, y1]``, or None if off-image."""
        c0, c1 = max(math.ceil(x0 - 0.5), 0), min(math.floor(x1 - 0.5) + 1, self.width)
        r0, r1 = max(math.ceil(y0 - 0.5), 0), min(math.floor(y1 - 0.5) + 1, self.height)
        if c0 >= c1 or r0 >= r1:
            return None
        return slice(r0, r1), slice(c0, c1)

    def paint(self, reg: Region, mask: Mask | None, color: RGB) -> None:
        """Write ``color`` and the pen to the masked pixels of ``reg`` (all of them if ``mask`` is None)."""
        if self.pen.emissive:
            color = self.emitted(color)
        if mask is None:
            self.rgb[reg] = color
            self.ids[reg] = self.pen.owner
            self.depth[reg] = self.pen.depth
            return
        self.rgb[reg][mask] = color
        self.ids[reg][mask] = self.pen.owner
        self.depth[reg][mask] = self.pen.depth


def centres(reg: Region) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Pixel-centre coordinates of a region as a column (y) and a row (x), for broadcasting."""
    rows, cols = reg
    ys = np.arange(rows.start, rows.stop, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(cols.start, cols.stop, dtype=np.float32)[None, :] + 0.5
    return ys, xs


def rect(cv: Canvas, x0: float, y0: float, x1: float, y1: float, color: RGB) -> None:
    """An axis-aligned rectangle, at least one pixel wide and tall so tiny objects never vanish."""
    if x1 - x0 < 1.0:
        x0, x1 = (x0 + x1) / 2 - 0.5, (x0 + x1) / 2 + 0.5
    if y1 - y0 < 1.0:
        y0, y1 = (y0 + y1) / 2 - 0.5, (y0 + y1) / 2 + 0.5
    c0, c1 = max(round(x0), 0), min(round(x1), cv.width)
    r0, r1 = max(round(y0), 0), min(round(y1), cv.height)
    if c0 < c1 and r0 < r1:
        cv.paint((slice(r0, r1), slice(c0, c1)), None, color)


def ellipse_mask(reg: Region, cx: float, cy: float, rx: float, ry: float) -> Mask:
    ys, xs = centres(reg)
    result: Mask = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0
    return result


def ellipse(cv: Canvas, cx: float, cy: float, rx: float, ry: float, color: RGB) -> None:
    """A filled ellipse; radii below a pixel are widened so the shape keeps at least one pixel."""
    rx, ry = max(rx, MIN_RADIUS), max(ry, MIN_RADIUS)
    reg = cv.region(cx - rx, cy - ry, cx + rx, cy + ry)
    if reg is not None:
        cv.paint(reg, ellipse_mask(reg, cx, cy, rx, ry), color)


def ring(cv: Canvas, cx: float, cy: float, rx: float, ry: float, thickness: float, color: RGB) -> None:
    """An elliptic ring (a wheel seen at an angle); solid when the hole would be under a pixel."""
    rx, ry = max(rx, MIN_RADIUS), max(ry, MIN_RADIUS)
    reg = cv.region(cx - rx, cy - ry, cx + rx, cy + ry)
    if reg is None:
        return
    mask = ellipse_mask(reg, cx, cy, rx, ry)
    hx, hy = rx - thickness, ry - thickness
    if hx > 0.5 and hy > 0.5:
        mask &= ~ellipse_mask(reg, cx, cy, hx, hy)
    cv.paint(reg, mask, color)


def segment(cv: Canvas, x0: float, y0: float, x1: float, y1: float, width: float, color: RGB) -> None:
    """A thick line segment with round ends (limbs, frames, poles at an angle), at least a pixel wide."""
    half = max(width, 1.0) / 2
    reg = cv.region(min(x0, x1) - half, min(y0, y1) - half, max(x0, x1) + half, max(y0, y1) + half)
    if reg is None:
        return
    ys, xs = centres(reg)
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0) if length2 > 0 else np.float32(0.0)
    mask: Mask = (xs - x0 - t * dx) ** 2 + (ys - y0 - t * dy) ** 2 <= half * half
    cv.paint(reg, mask, color)


def trapezoid(cv: Canvas, top: float, bottom: float, top_x: tuple[float, float], bottom_x: tuple[float, float],
              color: RGB) -> None:
    """A shape with horizontal top and bottom edges spanning ``top_x`` and ``bottom_x``.

    Covers car cabins and windows, torsos, coats, triangles (a top of zero width)
    and, in two halves, diamonds.
    """
    if bottom - top < 1e-6:
        return
    x0, x1 = min(top_x[0], bottom_x[0]), max(top_x[1], bottom_x[1])
    reg = cv.region(x0, top, x1, bottom)
    if reg is None:
        return
    ys, xs = centres(reg)
    t = (ys - top) / (bottom - top)
    left = top_x[0] + (bottom_x[0] - top_x[0]) * t
    right = top_x[1] + (bottom_x[1] - top_x[1]) * t
    cv.paint(reg, (xs >= left) & (xs <= right), color)


def darken_ellipse(cv: Canvas, cx: float, cy: float, rx: float, ry: float, factor: float) -> None:
    """Scale the colour inside an ellipse (a shadow); ids and depth are left alone."""
    reg = cv.region(cx - rx, cy - ry, cx + rx, cy + ry)
    if reg is None or rx < 0.5 or ry < 0.5:
        return
    mask = ellipse_mask(reg, cx, cy, rx, ry)
    cv.rgb[reg][mask] *= np.float32(factor)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """The colour a fraction ``t`` of the way from ``a`` to ``b``."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def scale(a: RGB, k: float) -> RGB:
    return (min(a[0] * k, 255.0), min(a[1] * k, 255.0), min(a[2] * k, 255.0))
