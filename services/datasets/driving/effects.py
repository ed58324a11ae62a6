"""Light and weather applied to a drawn frame: darkening, lights, haze and fog, rain, sensor noise.

Order matters and follows the physics loosely: the scene is lit by the ambient
light of the time of day (and the ego car's beams at night), light sources are
added on top, haze then mixes every pixel toward the air's colour by its
distance, and rain and sensor noise come last, on the lens.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import numpy.typing as npt

from services.datasets.driving.draw import SKY_DEPTH, Canvas
from services.datasets.driving.scene import HEIGHT, WIDTH, Conditions, Scene

F32 = npt.NDArray[np.float32]
AMBIENT = {"day": (1.0, 1.0, 1.0), "dusk": (0.72, 0.6, 0.55), "night": (0.17, 0.19, 0.27)}
WEATHER_LIGHT = {"clear": 1.0, "rain": 0.78, "fog": 0.9}
HAZE_COLOUR = {
    ("day", "clear"): (195, 210, 230), ("day", "rain"): (150, 153, 158), ("day", "fog"): (198, 200, 203),
    ("dusk", "clear"): (200, 150, 120), ("dusk", "rain"): (120, 105, 100), ("dusk", "fog"): (145, 128, 120),
    ("night", "clear"): (22, 26, 40), ("night", "rain"): (28, 28, 32), ("night", "fog"): (42, 42, 47),
}
BEAM = {"day": 0.0, "dusk": 0.25, "night": 0.6}
NOISE = {"day": 2.0, "dusk": 3.5, "night": 5.0}
NOISE_MARGIN = 64


@functools.cache
def _noise(amplitude: float) -> F32:
    """A fixed field of Gaussian noise larger than a frame, flattened to (rows, columns * 3)."""
    rng = np.random.default_rng(20_240_601)
    tile = rng.standard_normal((HEIGHT + NOISE_MARGIN, (WIDTH + NOISE_MARGIN) * 3), dtype=np.float32)
    tile *= np.float32(amplitude)
    return tile


@functools.cache
def _beam_columns() -> F32:
    """How the ego car's headlights spread across the frame, per flattened column."""
    cols = np.exp(-(((np.arange(WIDTH, dtype=np.float32) + 0.5 - WIDTH / 2) / (0.4 * WIDTH)) ** 2))
    return np.repeat(cols, 3)


@functools.cache
def _vignette() -> F32:
    ys = (np.arange(HEIGHT, dtype=np.float32) + 0.5) / HEIGHT - 0.5
    xs = (np.arange(WIDTH, dtype=np.float32) + 0.5) / WIDTH - 0.5
    return per_channel((1 - 0.35 * (ys[:, None] ** 2 + xs[None, :] ** 2)).astype(np.float32))


def per_channel(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """An (H, W) map repeated for the three channels of an image flattened to (H, W * 3).

    Flattened, per-pixel and per-channel factors broadcast along rows, which numpy
    runs several times faster than broadcasting a trailing axis of 3.
    """
    return np.repeat(a, 3, axis=1)


def tiled(colour: tuple[float, float, float] | npt.NDArray[np.float32], width: int) -> F32:
    """A colour repeated along a flattened row."""
    return np.tile(np.asarray(colour, dtype=np.float32), width)


def apply_effects(cv: Canvas, scene: Scene, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """The finished RGB frame as uint8."""
    cond = scene.conditions
    flat = cv.rgb.reshape(cv.height, cv.width * 3)
    _light(cv, flat, scene.camera.horizon, cond)
    _glows(cv, cond)
    _haze_and_lens(cv, flat, cond)
    if cond.rain > 0:
        _rain(cv, flat, cond, rng if scene.rain_seed is None else np.random.default_rng(scene.rain_seed))
    oy, ox = (int(v) for v in rng.integers(0, NOISE_MARGIN, size=2))
    flat += _noise(NOISE[cond.time_of_day])[oy : oy + cv.height, 3 * ox : 3 * (ox + cv.width)]
    np.clip(flat, 0, 255, out=flat)
    image: npt.NDArray[np.uint8] = cv.rgb.astype(np.uint8)
    return image


def ambient_light(cond: Conditions) -> tuple[float, float, float]:
    """The factor every pixel's colour is multiplied by, light sources excepted."""
    k = WEATHER_LIGHT[cond.weather] * cond.exposure
    r, g, b = AMBIENT[cond.time_of_day]
    return r * k, g * k, b * k


def _light(cv: Canvas, flat: F32, horizon: float, cond: Conditions) -> None:
    """Darken to the ambient light; after dark, the ego car's beams light the road ahead."""
    ambient = tiled(cv.ambient, cv.width)
    beam = BEAM[cond.time_of_day]
    if beam == 0:
        flat *= ambient
        return
    ys = np.arange(cv.height, dtype=np.float32) + 0.5
    rows = np.clip((ys - horizon - 4) / (cv.height - horizon), 0, 1) ** 1.5 * np.float32(beam)
    flat *= ambient + (1 - ambient) * (rows[:, None] * _beam_columns()[None, :])


def _glows(cv: Canvas, cond: Conditions) -> None:
    """Additive halos around lights: faint by day, wide in fog."""
    gain = {"day": 0.25, "dusk": 0.7, "night": 1.0}[cond.time_of_day]
    spread = 1.8 if cond.weather == "fog" else 1.3 if cond.weather == "rain" else 1.0
    for g in cv.glows:
        col, row = int(g.x), int(g.y)
        inside = 0 <= col < cv.width and 0 <= row < cv.height
        if inside and SKY_DEPTH < cv.depth[row, col] < g.depth - 0.5:
            continue
        r = g.radius * spread
        reg = cv.region(g.x - 3 * r, g.y - 3 * r, g.x + 3 * r, g.y + 3 * r)
        if reg is None:
            continue
        ys = np.arange(reg[0].start, reg[0].stop, dtype=np.float32)[:, None] + 0.5
        xs = np.arange(reg[1].start, reg[1].stop, dtype=np.float32)[None, :] + 0.5
        falloff = np.exp(-((xs - g.x) ** 2 + (ys - g.y) ** 2) / (r * r))
        cv.rgb[reg] += (np.float32(g.strength * gain) * falloff)[..., None] * np.array(g.color, dtype=np.float32)


def _haze_and_lens(cv: Canvas, flat: F32, cond: Conditions) -> None:
    """Mix toward the air's colour with distance (fog, or a faint aerial perspective), then vignetting."""
    air = tiled(HAZE_COLOUR[cond.time_of_day, cond.weather], cv.width)
    keep = per_channel(np.exp(-cv.depth / np.float32(cond.haze)))
    vignette = _vignette()
    keep *= vignette
    flat -= air
    flat *= keep
    flat += air * vignette
def _rain(cv: Canvas, flat: F32, cond: Conditions, rng: np.random.Generator) -> None:
    """Slanted bright streaks over the whole frame and a loss of contrast."""
    rgb = cv.rgb
    mean = rgb.reshape(-1, 3).mean(axis=0, dtype=np.float32)
    flat *= np.float32(0.85)
    flat += tiled(np.float32(0.15) * mean, cv.width)
    n, length = int(cond.rain * 900), 9
    slant = float(rng.uniform(-0.35, 0.35))
    x0 = rng.uniform(0, cv.width, size=n)
    y0 = rng.uniform(-length, cv.height, size=n)
    steps = np.arange(length)
    ys = (y0[:, None] + steps).astype(np.int64).ravel()
    xs = (x0[:, None] + slant * steps).astype(np.int64).ravel()
    ok = (ys >= 0) & (ys < cv.height) & (xs >= 0) & (xs < cv.width)
    ys, xs = ys[ok], xs[ok]
    streak = np.float32(200 if cond.time_of_day == "day" else 120)
    rgb[ys, xs] = rgb[ys, xs] * np.float32(0.65) + np.float32(0.35) * streak
