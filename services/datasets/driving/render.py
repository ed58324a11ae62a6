"""One synthetic driving frame: pixels and the objects a careful annotator would box in them.

Things are drawn far to near into an id buffer; an object's visibility is the
share of its own pixels no nearer thing covers at the end. Boxes are tight
around the object's pixels inside the image (amodal: occluders do not shrink
them, the border does), so they match what is drawn pixel for pixel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.datasets.driving.background import draw_background
from services.datasets.driving.clutter import draw_clutter
from services.datasets.driving.draw import CLUTTER, Canvas, Pen
from services.datasets.driving.effects import ambient_light, apply_effects
from services.datasets.driving.objects import Extent, draw_car, draw_cyclist, draw_pedestrian, draw_sign
from services.datasets.driving.placement import sample_scene
from services.datasets.driving.scene import HEIGHT, WIDTH, Scene, Thing

MIN_VISIBILITY = 0.1  # less visible than this and nobody would annotate it
MIN_HEIGHT_PX = 3  # nor anything shorter than this
MIN_CONTRAST = 0.1  # nor anything so deep in fog that less of its contrast survives
MARGIN_PX = 2  # shapes may spill this far past their nominal extent (rounding, minimum sizes)
BORDER_TOLERANCE_PX = 1.0  # an extent past the border by less than this is not truncation

Drawer = Callable[[Canvas, Thing, float, float, float], Extent]
DRAWERS: dict[str, Drawer] = {
    "car": draw_car, "pedestrian": draw_pedestrian, "cyclist": draw_cyclist, "traffic_sign": draw_sign,
}


@dataclass(frozen=True)
class DrivingObject:
    """A labelled object of a rendered frame; ``bbox`` is COCO ``[x, y, w, h]`` in pixels."""

    category_id: int
    bbox: tuple[float, float, float, float]
    visibility: float
    truncated: bool
    depth: float  # metres from the camera, for analyses by distance
    track_id: int = -1  # the thing's identity across a clip's frames, -1 in single frames

    @property
    def occluded(self) -> bool:
        return self.visibility < 0.7


@dataclass(frozen=True)
class FrameLabels:
    """What an annotator would record for frame ``index`` (0-based): its objects and tags."""

    index: int
    objects: tuple[DrivingObject, ...]
    tags: dict[str, str]


@dataclass(frozen=True)
class DrivingFrame:
    """A rendered frame: an (H, W, 3) uint8 RGB image and its labels."""

    image: npt.NDArray[np.uint8]
    labels: FrameLabels


@dataclass(frozen=True)
class _Drawn:
    thing: Thing
    owner: int
    own_pixels: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the drawn pixels, exclusive ends
    truncated: bool


def render_frame(seed: int, index: int) -> DrivingFrame:
    """Frame ``index`` of data set ``seed``, identical however and whenever it is rendered."""
    return render_scene(sample_scene(seed, index))


def render_scene(scene: Scene) -> DrivingFrame:
    """A scene's pixels and labels; scenes can be built or edited by hand (tests, what-ifs)."""
    rng = np.random.default_rng(scene.detail_seed)
    cv = Canvas(WIDTH, HEIGHT, ambient_light(scene.conditions))
    draw_background(cv, scene, rng)
    labels = _labels(scene, cv)
    return DrivingFrame(apply_effects(cv, scene, rng), labels)


def label_frame(seed: int, index: int) -> FrameLabels:
    """The labels of ``render_frame(seed, index)`` without its pixels, about twice as fast.

    Only things write object ids, so skipping the background and the effects
    leaves the id buffer, and so every box and visibility, unchanged.
    """
    return label_scene(sample_scene(seed, index))


def label_scene(scene: Scene) -> FrameLabels:
    """The labels of ``render_scene(scene)`` without its pixels (see :func:`label_frame`)."""
    return _labels(scene, Canvas(WIDTH, HEIGHT))


def _labels(scene: Scene, cv: Canvas) -> FrameLabels:
    """Draw the scene's things onto ``cv`` and label them."""
    objects = label_objects(cv, draw_things(cv, scene), scene.conditions.haze)
    return FrameLabels(scene.index, objects, scene.conditions.tags)


def draw_things(cv: Canvas, scene: Scene) -> list[_Drawn]:
    """Draw every thing far to near; for labelled ones, record the pixels they own when drawn."""
    drawn: list[_Drawn] = []
    for t in sorted(scene.things, key=lambda t: -t.z):
        u, v, s = scene.camera.project(t.x, t.z)
        if t.category_id == 0:
            cv.pen = Pen(CLUTTER, t.z)
            draw_clutter(cv, t, u, v, s)
            continue
        owner = len(drawn) + 1
        cv.pen = Pen(owner, t.z)
        extent = DRAWERS[t.kind](cv, t, u, v, s)
        record = _own_pixels(cv, t, owner, extent)
        if record is not None:
            drawn.append(record)
    cv.pen = Pen()
    return drawn


def _own_pixels(cv: Canvas, t: Thing, owner: int, extent: Extent) -> _Drawn | None:
    x0, y0, x1, y1 = extent
    reg = cv.region(x0 - MARGIN_PX, y0 - MARGIN_PX, x1 + MARGIN_PX, y1 + MARGIN_PX)
    if reg is None:
        return None
    mine = cv.ids[reg] == owner
    rows, cols = np.flatnonzero(mine.any(axis=1)), np.flatnonzero(mine.any(axis=0))
    if rows.size == 0:
        return None
    r, c = reg[0].start, reg[1].start
    box = (c + int(cols[0]), r + int(rows[0]), c + int(cols[-1]) + 1, r + int(rows[-1]) + 1)
    tol = BORDER_TOLERANCE_PX
    truncated = x0 < -tol or y0 < -tol or x1 > cv.width + tol or y1 > cv.height + tol
    return _Drawn(t, owner, int(mine.sum()), box, truncated)


def label_objects(cv: Canvas, drawn: list[_Drawn], haze: float) -> tuple[DrivingObject, ...]:
    """Objects visible enough, tall enough and clear enough of fog to annotate, with their attributes."""
    if not drawn:
        return ()
    visible = np.bincount(cv.ids[cv.ids > 0], minlength=len(drawn) + 1)
    objects = []
    for d in drawn:
        visibility = min(float(visible[d.owner]) / d.own_pixels, 1.0)
        x0, y0, x1, y1 = d.box
        if visibility < MIN_VISIBILITY or y1 - y0 < MIN_HEIGHT_PX or math.exp(-d.thing.z / haze) < MIN_CONTRAST:
            continue
        bbox = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        objects.append(DrivingObject(
            d.thing.category_id, bbox, round(visibility, 2), d.truncated, round(d.thing.z, 2), d.thing.track
        ))
    return tuple(objects)
