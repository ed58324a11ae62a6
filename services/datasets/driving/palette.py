"""Colours the scenes draw from: many car paints, clothes and skin tones, street materials."""

from __future__ import annotations

import numpy as np

from services.datasets.driving.draw import RGB

CAR_PAINTS: tuple[RGB, ...] = (
    (235, 235, 232), (190, 192, 196), (128, 130, 134), (40, 40, 44), (170, 25, 30), (200, 60, 40),
    (30, 60, 150), (20, 35, 80), (40, 110, 70), (225, 190, 40), (230, 120, 30), (110, 70, 45),
    (210, 195, 160), (40, 130, 140), (120, 30, 80), (90, 150, 200),
)
SKIN: tuple[RGB, ...] = ((240, 200, 170), (220, 170, 130), (190, 140, 100), (150, 100, 70), (100, 70, 50))
PANTS: tuple[RGB, ...] = ((35, 45, 80), (30, 30, 32), (90, 90, 95), (150, 130, 95), (60, 80, 120), (110, 40, 40))
BIKE_FRAMES: tuple[RGB, ...] = ((200, 30, 30), (30, 30, 30), (220, 220, 220), (30, 90, 190), (40, 150, 60))
TREE_GREENS: tuple[RGB, ...] = ((50, 100, 40), (70, 120, 50), (35, 80, 40), (90, 125, 45))
FACADES: tuple[RGB, ...] = (
    (180, 160, 140), (150, 110, 90), (200, 195, 185), (120, 120, 125), (170, 140, 100), (210, 180, 150),
)
BIN_COLOURS: tuple[RGB, ...] = ((40, 90, 50), (70, 70, 75), (40, 60, 130), (150, 120, 40))

ASPHALT: RGB = (92, 92, 96)
CURB: RGB = (170, 168, 160)
SIDEWALK: RGB = (150, 146, 140)
GRASS: RGB = (80, 120, 55)
PAVEMENT: RGB = (125, 120, 112)
LANE_WHITE: RGB = (225, 225, 220)
LANE_YELLOW: RGB = (225, 185, 50)
GLASS: RGB = (45, 55, 70)
TYRE: RGB = (22, 22, 24)
POLE_GREY: RGB = (110, 112, 115)
SIGN_RED: RGB = (210, 25, 30)
SIGN_BLUE: RGB = (20, 80, 185)
SIGN_YELLOW: RGB = (245, 200, 20)
WHITE: RGB = (245, 245, 245)
BLACK: RGB = (20, 20, 20)
TAIL_LIGHT: RGB = (230, 20, 20)
HEAD_LIGHT: RGB = (255, 250, 220)
LAMP_LIGHT: RGB = (255, 220, 150)
WINDOW_LIT: RGB = (255, 215, 130)


def pick(rng: np.random.Generator, colours: tuple[RGB, ...], jitter: float = 12.0) -> RGB:
    """One of ``colours``, each channel nudged a little so no two objects are exactly alike."""
    base = colours[int(rng.integers(len(colours)))]
    noise = rng.uniform(-jitter, jitter, size=3).tolist()
    r, g, b = (min(max(c + n, 0.0), 255.0) for c, n in zip(base, noise, strict=True))
    return r, g, b


def random_colour(rng: np.random.Generator, lo: float = 30, hi: float = 230) -> RGB:
    """Any colour (shirts, bags), kept away from pure black and white."""
    r, g, b = rng.uniform(lo, hi, size=3)
    return float(r), float(g), float(b)
