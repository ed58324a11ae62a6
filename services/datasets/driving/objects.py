"""Drawing the four labelled classes: car, pedestrian, cyclist and traffic sign.

Each function draws one thing standing at the image point ``(u, v)`` with
``s`` pixels per metre and returns the shape's full extent ``(x0, y0, x1, y1)``
before clipping, from which truncation is judged. Cyclists share the
pedestrian's body on purpose: telling them apart should be learnt, not free.
"""

from __future__ import annotations

import math

from services.datasets.driving import palette
from services.datasets.driving.draw import (
    CLUTTER,
    RGB,
    Canvas,
    Glow,
    darken_ellipse,
    ellipse,
    mix,
    rect,
    ring,
    scale,
    segment,
    trapezoid,
)
from services.datasets.driving.scene import Thing

Extent = tuple[float, float, float, float]


def draw_car(cv: Canvas, t: Thing, u: float, v: float, s: float) -> Extent:
    darken_ellipse(cv, u, v - 0.02 * t.height * s, 0.6 * t.width * s, max(0.1 * t.width * s, 0.6), 0.5)
    if t.variant == 2:
        return _car_side(cv, t, u, v, s)
    w, h = t.width * s, t.height * s
    x0, x1, top = u - w / 2, u + w / 2, v - h
    body, glass = t.colors[0], t.colors[1]
    van = t.height > 1.75
    waist = v - (0.5 if van else 0.58) * h
    inset = 0.05 if van else 0.15
    rect(cv, x0 + 0.04 * w, v - 0.2 * h, x0 + 0.25 * w, v, palette.TYRE)
    rect(cv, x1 - 0.25 * w, v - 0.2 * h, x1 - 0.04 * w, v, palette.TYRE)
    rect(cv, x0, waist, x1, v - 0.12 * h, body)
    trapezoid(cv, top, waist + 1, (x0 + inset * w, x1 - inset * w), (x0 + 0.04 * w, x1 - 0.04 * w), body)
    rect(cv, x0 + 0.2 * w, top, x1 - 0.2 * w, top + 0.04 * h, scale(body, 1.25))
    rect(cv, x0 + 0.02 * w, v - 0.24 * h, x1 - 0.02 * w, v - 0.12 * h, scale(body, 0.5))
    g = inset + 0.06
    trapezoid(cv, top + 0.08 * h, waist - 0.04 * h, (x0 + g * w, x1 - g * w), (x0 + 0.1 * w, x1 - 0.1 * w),
              mix(glass, (150, 170, 190), 0.15))
    rect(cv, u - 0.12 * w, v - 0.38 * h, u + 0.12 * w, v - 0.29 * h, (230, 225, 200))
    _car_lights(cv, t, x0, x1, v - 0.52 * h, v - 0.42 * h)
    return x0, top, x1, v


def _car_lights(cv: Canvas, t: Thing, x0: float, x1: float, y0: float, y1: float) -> None:
    """Tail lights (red) or headlights (white) and grille; lit ones glow after darkening."""
    w = x1 - x0
    front = t.variant == 1
    colour = palette.HEAD_LIGHT if front else palette.TAIL_LIGHT
    if front:
        rect(cv, x0 + 0.32 * w, y0, x1 - 0.32 * w, y1 + 0.05 * w, palette.BLACK)
    cv.pen.emissive = t.lit
    lamp = colour if t.lit else scale(colour, 0.7)
    rect(cv, x0 + 0.04 * w, y0, x0 + 0.22 * w, y1, lamp)
    rect(cv, x1 - 0.22 * w, y0, x1 - 0.04 * w, y1, lamp)
    cv.pen.emissive = False
    if t.lit:
        strength = 1.0 if front else 0.6
        for cx in (x0 + 0.13 * w, x1 - 0.13 * w):
            cv.glows.append(Glow(cx, (y0 + y1) / 2, max(0.25 * w, 1.5), colour, strength, cv.pen.depth))


def _car_side(cv: Canvas, t: Thing, u: float, v: float, s: float) -> Extent:
    w, h = t.width * s, t.height * s
    body, glass = t.colors[0], t.colors[1]

    def at(a: float) -> float:  # a = 0 at the rear, 1 at the front
        return u + t.facing * (a - 0.5) * w

    def span(a: float, b: float) -> tuple[float, float]:
        return min(at(a), at(b)), max(at(a), at(b))

    top = v - h
    waist = v - 0.55 * h
    rect(cv, u - w / 2, waist, u + w / 2, v - 0.14 * h, body)
    rect(cv, u - w / 2, v - 0.25 * h, u + w / 2, v - 0.14 * h, scale(body, 0.6))
    trapezoid(cv, top, waist + 1, span(0.2, 0.62), span(0.04, 0.8), body)
    trapezoid(cv, top + 0.08 * h, waist - 0.03 * h, span(0.22, 0.39), span(0.1, 0.39), glass)
    trapezoid(cv, top + 0.08 * h, waist - 0.03 * h, span(0.43, 0.6), span(0.43, 0.73), glass)
    r = 0.21 * h
    for a in (0.19, 0.81):
        ellipse(cv, at(a), v - r, r, r, palette.TYRE)
        ellipse(cv, at(a), v - r, 0.5 * r, 0.5 * r, (150, 150, 155))
    cv.pen.emissive = t.lit
    rect(cv, min(at(0.96), at(1.0)), waist + 0.05 * h, max(at(0.96), at(1.0)), waist + 0.15 * h, palette.HEAD_LIGHT)
    rect(cv, min(at(0.0), at(0.03)), waist + 0.05 * h, max(at(0.0), at(0.03)), waist + 0.15 * h, palette.TAIL_LIGHT)
    cv.pen.emissive = False
    if t.lit:
        cv.glows.append(Glow(at(1.0), waist + 0.1 * h, max(0.08 * w, 1.5), palette.HEAD_LIGHT, 0.8, cv.pen.depth))
    return u - w / 2, top, u + w / 2, v


def draw_pedestrian(cv: Canvas, t: Thing, u: float, v: float, s: float) -> Extent:
    h = t.height * s
    darken_ellipse(cv, u, v, 0.2 * h, max(0.03 * h, 0.6), 0.6)
    skin, shirt, pants, extra = t.colors[:4]
    swing = (t.pose - 0.5) * 0.3 * h * t.facing
    _legs(cv, u, v - 0.5 * h, u, v, h, swing, pants)
    if t.variant == 2:
        trapezoid(cv, v - 0.56 * h, v - 0.3 * h, (u - 0.09 * h, u + 0.09 * h), (u - 0.13 * h, u + 0.13 * h), extra)
    _upper_body(cv, u, v - 0.5 * h, h, t.facing, swing, (skin, shirt))
    if t.variant == 1:
        b = u - t.facing * 0.1 * h
        rect(cv, min(b, b - t.facing * 0.08 * h), v - 0.78 * h, max(b, b - t.facing * 0.08 * h), v - 0.55 * h, extra)
    return u - 0.17 * h, v - 0.965 * h, u + 0.17 * h, v


def _legs(cv: Canvas, hip_x: float, hip_y: float, foot_x: float, foot_y: float, h: float, swing: float,
          colour: RGB) -> None:
    width = 0.085 * h
    segment(cv, hip_x - 0.04 * h, hip_y, foot_x - 0.05 * h + swing, foot_y - width / 2, width, colour)
    segment(cv, hip_x + 0.04 * h, hip_y, foot_x + 0.05 * h - swing, foot_y - width / 2, width, scale(colour, 0.8))


def _upper_body(cv: Canvas, hip_x: float, hip_y: float, h: float, facing: int, lean: float,
                colours: tuple[RGB, RGB]) -> tuple[float, float]:
    """Torso, arms and head of a person of height ``h`` px whose hips are at ``(hip_x, hip_y)``.

    ``lean`` shifts the shoulders sideways (a cyclist bending over the handlebar).
    Returns where the hands are.
    """
    skin, shirt = colours
    sx, sy = hip_x + lean, hip_y - 0.3 * h
    trapezoid(cv, sy, hip_y, (sx - 0.11 * h, sx + 0.11 * h), (hip_x - 0.085 * h, hip_x + 0.085 * h), shirt)
    hand = (hip_x + lean * 0.5 + facing * 0.12 * h, hip_y + 0.01 * h)
    segment(cv, sx - facing * 0.1 * h, sy + 0.02 * h, hip_x - facing * 0.13 * h, hip_y, 0.06 * h, scale(shirt, 0.85))
    segment(cv, sx + facing * 0.1 * h, sy + 0.02 * h, hand[0], hand[1], 0.06 * h, scale(shirt, 0.85))
    hx, hy = sx + facing * 0.01 * h, sy - 0.085 * h
    ellipse(cv, hx, hy, 0.065 * h, 0.075 * h, skin)
    ellipse(cv, hx, hy - 0.035 * h, 0.066 * h, 0.042 * h, scale(skin, 0.35))
    return hand


def draw_cyclist(cv: Canvas, t: Thing, u: float, v: float, s: float) -> Extent:
    """A rider on a bicycle seen from the side (``pose`` 1) to nearly from behind (``pose`` 0.3)."""
    k, f = t.pose, t.facing
    r, half_base = 0.34 * s, 0.53 * s * k
    darken_ellipse(cv, u, v, half_base + r * k + 0.2 * s, max(0.08 * s, 0.6), 0.6)
    skin, shirt, pants, _, frame, helmet = t.colors[:6]
    rear, front = (u - f * half_base, v - r), (u + f * half_base, v - r)
    bracket, saddle, bar = (u - f * 0.05 * s * k, v - 0.3 * s), (u - f * 0.28 * s * k, v - 0.92 * s), \
        (u + f * 0.4 * s * k, v - 0.9 * s)
    body_h = (t.height - 0.92) / 0.5 * s  # a standing person's hips are at half height
    crank = 2 * math.pi * ((t.x * 7.3) % 1.0)
    dx, dy = f * 0.17 * s * k * math.cos(crank), 0.17 * s * math.sin(crank)
    tyre = max(0.05 * s, 1.0)
    ring(cv, rear[0], rear[1], r * k, r, tyre, palette.TYRE)
    segment(cv, *saddle, bracket[0] - dx, bracket[1] - dy, 0.085 * body_h, scale(pants, 0.75))
    for a, b in ((rear, bracket), (bracket, saddle), (saddle, rear), (bracket, bar), (saddle, bar), (bar, front)):
        segment(cv, *a, *b, max(0.045 * s, 1.0), frame)
    segment(cv, *saddle, bracket[0] + dx, bracket[1] + dy, 0.085 * body_h, pants)
    hand = _upper_body(cv, saddle[0], saddle[1], body_h, f, f * 0.25 * s * k, (skin, shirt))
    segment(cv, *hand, bar[0], bar[1] - 0.1 * s, max(0.03 * s, 1.0), scale(shirt, 0.85))
    ellipse(cv, saddle[0] + f * 0.26 * s * k, v - (t.height - 0.1) * s, 0.09 * s, 0.06 * s, helmet)
    ring(cv, front[0], front[1], r * k, r, tyre, palette.TYRE)
    if t.lit:
        cv.glows.append(Glow(bar[0], bar[1], max(0.06 * s, 1.0), palette.HEAD_LIGHT, 0.5, cv.pen.depth))
    x0, x1 = min(rear[0], front[0]) - r * k, max(rear[0], front[0]) + r * k
    return min(x0, u - 0.35 * s), v - t.height * s, max(x1, u + 0.35 * s), v


def draw_sign(cv: Canvas, t: Thing, u: float, v: float, s: float) -> Extent:
    """A pole (unlabelled clutter) holding a bright plate: only the plate is the object."""
    p = t.width * s
    cy = v - (t.height - t.width / 2) * s
    owner = cv.pen.owner
    cv.pen.owner = CLUTTER
    rect(cv, u - 0.04 * s, cy, u + 0.04 * s, v, t.colors[0])
    cv.pen.owner = owner
    if t.variant == 0:
        inner = palette.SIGN_BLUE if t.pose > 0.6 else palette.WHITE
        ellipse(cv, u, cy, p / 2, p / 2, palette.SIGN_RED if inner == palette.WHITE else inner)
        ellipse(cv, u, cy, 0.36 * p, 0.36 * p, inner)
        bar = palette.WHITE if t.pose > 0.6 else palette.BLACK
        rect(cv, u - 0.2 * p, cy - 0.06 * p, u + 0.2 * p, cy + 0.06 * p, bar)
    elif t.variant == 1:
        top, base = cy - 0.5 * p, cy + 0.4 * p
        trapezoid(cv, top, base, (u, u), (u - 0.55 * p, u + 0.55 * p), palette.SIGN_RED)
        trapezoid(cv, top + 0.25 * p, base - 0.1 * p, (u, u), (u - 0.33 * p, u + 0.33 * p), palette.WHITE)
        rect(cv, u - 0.04 * p, cy - 0.05 * p, u + 0.04 * p, cy + 0.15 * p, palette.BLACK)
    elif t.variant == 2:
        rect(cv, u - p / 2, cy - p / 2, u + p / 2, cy + p / 2, palette.SIGN_BLUE)
        rect(cv, u - 0.12 * p, cy - 0.3 * p, u + 0.12 * p, cy + 0.3 * p, palette.WHITE)
        trapezoid(cv, cy - 0.4 * p, cy - 0.15 * p, (u, u), (u - 0.25 * p, u + 0.25 * p), palette.WHITE)
    else:
        _diamond(cv, u, cy, p / 2, palette.WHITE)
        _diamond(cv, u, cy, 0.36 * p, palette.SIGN_YELLOW)
    return u - p / 2 - 0.05 * p, cy - p / 2, u + p / 2 + 0.05 * p, cy + p / 2


def _diamond(cv: Canvas, u: float, cy: float, r: float, colour: RGB) -> None:
    trapezoid(cv, cy - r, cy, (u, u), (u - r, u + r), colour)
    trapezoid(cv, cy, cy + r, (u - r, u + r), (u, u), colour)
