"""The static part of a frame: sky, distant skyline, road with markings, sidewalks, verges, facades.

The ground is computed row by row from the camera model (every row below the
horizon is one depth), so road edges, lane markings and sidewalk joints
converge correctly and bend with the road. Background pixels keep owner id 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from services.datasets.driving import palette
from services.datasets.driving.draw import RGB, SKY_DEPTH, Canvas, darken_ellipse, mix, scale
from services.datasets.driving.scene import Block, Scene

F32 = npt.NDArray[np.float32]
Floats = npt.NDArray[np.floating[Any]]

SKIES: dict[tuple[str, str], tuple[RGB, RGB]] = {  # (top, horizon), final colours: darkening skips the sky
    ("day", "clear"): ((60, 120, 205), (185, 210, 235)), ("day", "rain"): ((105, 110, 120), (160, 163, 168)),
    ("day", "fog"): ((185, 188, 192), (200, 202, 205)), ("dusk", "clear"): ((40, 50, 110), (250, 150, 90)),
    ("dusk", "rain"): ((55, 55, 70), (140, 115, 105)), ("dusk", "fog"): ((110, 100, 105), (150, 130, 120)),
    ("night", "clear"): ((4, 7, 20), (25, 32, 55)), ("night", "rain"): ((12, 12, 16), (35, 35, 40)),
    ("night", "fog"): ((30, 30, 34), (45, 45, 50)),
}
SKYLINE_DEPTH = 600.0
NEAREST_FACADE = 0.5  # metres: nearer than this a passing facade is out of view


def draw_background(cv: Canvas, scene: Scene, rng: np.random.Generator) -> None:
    draw_sky(cv, scene, rng)
    draw_ground(cv, scene)
    for block in sorted(scene.blocks, key=lambda b: -b.z0):
        draw_facade(cv, scene, block)
    if scene.conditions.weather != "fog" and scene.conditions.time_of_day != "night":
        _ground_shadows(cv, scene, rng)


def draw_sky(cv: Canvas, scene: Scene, rng: np.random.Generator) -> None:
    """Sky gradient down to the horizon and a skyline of towers or a tree line in the distance."""
    cond, horizon = scene.conditions, scene.camera.horizon
    top, low = SKIES[cond.time_of_day, cond.weather]
    rows = min(math.floor(horizon + 0.5) + 1, cv.height)
    t = np.clip(np.arange(rows, dtype=np.float32) / max(horizon, 1.0), 0, 1)[:, None]
    gradient = np.array(top, np.float32) + (np.array(low, np.float32) - np.array(top, np.float32)) * t
    gradient /= np.array(cv.ambient, dtype=np.float32)  # the sky is a light source
    cv.rgb[:rows] = np.tile(gradient, (1, cv.width)).reshape(rows, cv.width, 3)
    cv.depth[:rows] = SKY_DEPTH
    if scene.road.buildings:
        steps = np.repeat(rng.uniform(2, 14, size=cv.width // 8 + 1), 8)[: cv.width]
        colour: RGB = (95, 100, 115)
    else:
        steps = 4 + np.convolve(rng.uniform(0, 6, size=cv.width + 8), np.ones(9) / 9, mode="valid")[: cv.width]
        colour = (45, 75, 45)
    scale_px = scene.camera.focal / 300
    tops = horizon - steps.astype(np.float32) * scale_px
    r0 = max(math.floor(float(tops.min())), 0)
    if r0 >= rows:
        return
    reg = (slice(r0, rows), slice(0, cv.width))
    mask = (np.arange(r0, rows, dtype=np.float32)[:, None] + 0.5) >= tops[None, :]
    cv.rgb[reg][mask] = mix(colour, low, 0.3)
    cv.depth[reg][mask] = SKYLINE_DEPTH


def draw_ground(cv: Canvas, scene: Scene) -> None:
    """Road, kerbs, sidewalks and verges with texture and lane markings, at each row's depth."""
    cam, road = scene.camera, scene.road
    r0 = max(math.floor(cam.horizon + 0.5), 0)
    if r0 >= cv.height:
        return
    z = (cam.focal * cam.height / (np.arange(r0, cv.height, dtype=np.float32) + 0.5 - cam.horizon))[:, None]
    xs = np.arange(cv.width, dtype=np.float32)[None, :] + 0.5
    lateral = (xs - cam.cx) * (z / cam.focal) - (road.curve * z * z - road.ego_x)  # metres from the centre line
    dist = np.abs(lateral)
    half = road.half_width
    zone = (dist >= half).astype(np.uint8) + (dist >= half + 0.25) + (dist >= half + road.sidewalk)
    asphalt = scale(palette.ASPHALT, 0.75 if scene.conditions.weather == "rain" else 1.0)
    verge = palette.PAVEMENT if road.buildings else palette.GRASS
    colours = np.array([asphalt, palette.CURB, palette.SIDEWALK, verge], dtype=np.float32)
    ground = colours[zone]
    joints = (zone == 2) & (np.mod(z + np.float32(road.travelled), 1.6) < 0.12)
    ground[joints] *= np.float32(0.85)
    _markings(ground, z, scene)
    cv.rgb[r0:] = ground
    cv.depth[r0:] = z


def _markings(ground: F32, z: F32, scene: Scene) -> None:
    """Dashed lane lines, a solid centre line on two-way roads and solid edge lines, anti-aliased."""
    cam, road = scene.camera, scene.road
    depth = z[:, 0]
    px_per_m = cam.focal / depth
    centre = road.curve * depth * depth - road.ego_x
    dashes = (np.mod(depth + road.dash_phase, 9.0) < 3.5) * np.clip(1.6 - depth / 100.0, 0.3, 1.0)
    solid = np.clip(1.6 - depth / 100.0, 0.3, 1.0)
    half = road.half_width
    for k in range(1, road.lanes):
        at = -half + k * road.lane_width
        if k == road.lanes // 2:
            _paint_line(ground, cam.cx + px_per_m * (centre + at), 0.075 * px_per_m, solid, palette.LANE_YELLOW)
        else:
            _paint_line(ground, cam.cx + px_per_m * (centre + at), 0.075 * px_per_m, dashes, palette.LANE_WHITE)
    for edge in (-half + 0.25, half - 0.25):
        _paint_line(ground, cam.cx + px_per_m * (centre + edge), 0.06 * px_per_m, solid, palette.LANE_WHITE)


def _paint_line(ground: F32, x: Floats, half_px: Floats, weight: Floats, colour: RGB) -> None:
    """Blend a line centred at column ``x[r]`` of each row ``r`` into ``ground``, by pixel coverage."""
    k = 2 * math.ceil(float(half_px.max())) + 3
    cols = np.floor(x - k / 2).astype(np.int64)[:, None] + np.arange(k)
    dist = np.abs(cols + np.float32(0.5) - x[:, None])
    alpha = np.clip(half_px[:, None] + 0.5 - dist, 0.0, 1.0) * (np.minimum(2 * half_px, 1.0) * weight)[:, None]
    ok = (cols >= 0) & (cols < ground.shape[1]) & (alpha > 0)
    rows = np.broadcast_to(np.arange(ground.shape[0])[:, None], cols.shape)[ok]
    cols, a = cols[ok], alpha[ok][:, None].astype(np.float32)
    ground[rows, cols] += a * (np.array(colour, dtype=np.float32) - ground[rows, cols])


def draw_facade(cv: Canvas, scene: Scene, b: Block) -> None:
    """A building front as a perspective-correct plane with a grid of windows, lit at night."""
    cam, road = scene.camera, scene.road
    offset = b.side * (road.half_width + road.sidewalk + b.offset)
    z0 = max(b.z0, NEAREST_FACADE)  # a facade the camera is passing: draw its part ahead
    x_a, x_b = (cam.cx + cam.focal * (road.centre(z) + offset) / z for z in (z0, b.z1))
    c0, c1 = max(math.floor(min(x_a, x_b)), 0), min(math.ceil(max(x_a, x_b)), cv.width)
    if c0 >= c1 or abs(x_b - x_a) < 0.5:
        return
    xs = np.arange(c0, c1, dtype=np.float32) + 0.5
    inv_z = 1 / z0 + (1 / b.z1 - 1 / z0) * np.clip((xs - x_a) / (x_b - x_a), 0, 1)
    z = (1 / inv_z)[None, :]
    top = cam.horizon - cam.focal * (b.height - cam.height) / z
    bottom = cam.horizon + cam.focal * cam.height / z
    r0, r1 = max(math.floor(float(top.min())), 0), min(math.ceil(float(bottom.max())), cv.height)
    if r0 >= r1:
        return
    ys = np.arange(r0, r1, dtype=np.float32)[:, None] + 0.5
    wall = (ys >= top) & (ys < bottom)
    height = cam.height - (ys - cam.horizon) * z / cam.focal  # metres above the ground
    along, storey = np.mod(z - b.z0, b.bay) / b.bay, np.mod(height, b.storey)
    window = wall & (along > 0.25) & (along < 0.75) & (storey > 0.9) & (storey < 2.1) & (height < b.height - 0.6)
    reg = (slice(r0, r1), slice(c0, c1))
    shade = 0.85 if b.side < 0 else 1.0
    cv.rgb[reg][wall] = scale(b.color, shade)
    cv.depth[reg][wall] = np.broadcast_to(z, wall.shape)[wall]
    cv.rgb[reg][window] = (55, 68, 85)
    if scene.conditions.time_of_day != "day":
        bay, floor = np.floor((z - b.z0) / b.bay).astype(np.int64), np.floor(height / b.storey).astype(np.int64)
        cell = bay * 7919 + floor * 104729  # a hash of the window's place on the facade
        lit = window & (np.mod(cell, 1000) < b.lit * 1000)
        cv.rgb[reg][lit] = cv.emitted(palette.WINDOW_LIT)


def _ground_shadows(cv: Canvas, scene: Scene, rng: np.random.Generator) -> None:
    """Soft-edged dark patches on the road (shadows of things out of view): unlabelled distractors."""
    cam = scene.camera
    for _ in range(int(rng.poisson(2))):
        z = float(rng.uniform(4, 40))
        if scene.road.travelled:  # shadows of things beside the road come closer as the camera drives on
            z = 4 + (z - 4 - scene.road.travelled) % 36
        u, v, s = cam.project(scene.road.centre(z) + float(rng.uniform(-8, 8)), z)
        rx = float(rng.uniform(1, 4)) * s
        darken_ellipse(cv, u, v, rx, 0.25 * rx, float(rng.uniform(0.55, 0.8)))
