"""Drawing unlabelled clutter: poles, street lamps, trees, bushes, bins, boxes and cones.

Clutter is never annotated but hides what stands behind it, and several
pieces resemble objects on purpose (a bare pole, a cone, a bin) so a detector
has something to wrongly fire on.
"""

from __future__ import annotations

from services.datasets.driving import palette
from services.datasets.driving.draw import Canvas, Glow, darken_ellipse, ellipse, rect, scale, segment, trapezoid
from services.datasets.driving.scene import Thing


def draw_clutter(cv: Canvas, t: Thing, u: float, v: float, s: float) -> None:
    w, h = t.width * s, t.height * s
    colour = t.colors[0]
    if t.kind in ("pole", "lamp"):
        rect(cv, u - w / 2, v - h, u + w / 2, v, colour)
        rect(cv, u - w, v - 0.15 * s, u + w, v, scale(colour, 0.8))
        if t.kind == "lamp":
            _lamp_head(cv, t, u, v - h, s)
    elif t.kind == "tree":
        _tree(cv, t, u, v, s)
    elif t.kind == "bush":
        darken_ellipse(cv, u, v, 0.55 * w, max(0.1 * w, 0.6), 0.65)
        ellipse(cv, u - 0.2 * w, v - 0.4 * h, 0.32 * w, 0.42 * h, scale(colour, 0.85))
        ellipse(cv, u + 0.18 * w, v - 0.45 * h, 0.34 * w, 0.48 * h, colour)
        ellipse(cv, u, v - 0.62 * h, 0.25 * w, 0.36 * h, scale(colour, 1.15))
    elif t.kind == "bin":
        rect(cv, u - w / 2, v - 0.9 * h, u + w / 2, v, colour)
        rect(cv, u - 0.55 * w, v - h, u + 0.55 * w, v - 0.88 * h, scale(colour, 0.7))
        rect(cv, u - w / 2, v - 0.4 * h, u + w / 2, v - 0.34 * h, scale(colour, 1.3))
    elif t.kind == "box":
        rect(cv, u - w / 2, v - h, u + w / 2, v, colour)
        rect(cv, u - 0.07 * w, v - h, u + 0.07 * w, v, (205, 190, 150))
        rect(cv, u - w / 2, v - h, u + w / 2, v - 0.85 * h, scale(colour, 1.2))
    else:
        trapezoid(cv, v - h, v, (u, u), (u - w / 2, u + w / 2), colour)
        rect(cv, u - 0.2 * w, v - 0.55 * h, u + 0.2 * w, v - 0.4 * h, t.colors[1])


def _lamp_head(cv: Canvas, t: Thing, u: float, top: float, s: float) -> None:
    """An arm reaching over the road and a lamp that glows and lights the ground at night."""
    end = u - t.facing * 1.2 * s
    segment(cv, u, top, end, top - 0.15 * s, max(0.08 * s, 1.0), t.colors[0])
    cv.pen.emissive = t.lit
    ellipse(cv, end, top - 0.1 * s, 0.3 * s, 0.1 * s, palette.LAMP_LIGHT if t.lit else (190, 190, 180))
    cv.pen.emissive = False
    if t.lit:
        cv.glows.append(Glow(end, top - 0.05 * s, max(0.9 * s, 2.0), palette.LAMP_LIGHT, 0.8, cv.pen.depth))


def _tree(cv: Canvas, t: Thing, u: float, v: float, s: float) -> None:
    w, h = t.width * s, t.height * s
    crown, bark = t.colors[0], t.colors[1]
    darken_ellipse(cv, u, v, 0.5 * w, max(0.08 * w, 0.6), 0.7)
    rect(cv, u - 0.12 * s, v - 0.55 * h, u + 0.12 * s, v, bark)
    lean = (t.pose - 0.5) * 0.2 * w
    ellipse(cv, u - 0.22 * w + lean, v - 0.6 * h, 0.36 * w, 0.22 * h, scale(crown, 0.8))
    ellipse(cv, u + 0.2 * w + lean, v - 0.62 * h, 0.36 * w, 0.24 * h, scale(crown, 0.9))
    ellipse(cv, u + lean, v - 0.78 * h, 0.38 * w, 0.22 * h, crown)
