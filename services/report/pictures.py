"""The gallery's picture of one compared frame, by the geometry kind compared: boxes drawn on the image,
cuboids on the point cloud seen from above. A kind without a picture here has no gallery."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from analysis.compare import Comparison
from services.engine.frames import Frame
from services.report.bev import BirdsEye, render_bev
from services.report.gallery import Overlay, render_overlay

Labelled = list[tuple[list[float], str]]  # (the object's geometry numbers, its class)
Picture = Callable[[Frame, Comparison, int], "bytes | None"]  # the page captions it


def objects_of(c: Comparison, f: int, kind: str, column: Callable[[np.ndarray], np.ndarray], *,
               human: bool) -> Labelled:
    """Frame ``f``'s objects of one side: ``column`` of their ``kind`` block as numbers, and each class name."""
    side = c.manual if human else c.automation
    names = dict(zip(c.manual.categories.ids.tolist(), c.manual.categories.names, strict=True))
    idx = np.flatnonzero(side.objects.frame == f)
    numbers = column(side.objects.geometry[kind]) if len(idx) else np.zeros((0, 0))
    return [(numbers[i].tolist(), names[int(side.categories.ids[side.objects.category[i]])]) for i in idx.tolist()]


def boxes_on_image(frame: Frame, c: Comparison, f: int) -> bytes | None:
    if frame.image is None or frame.image.ndim != 3 or frame.image.shape[2] != 3:
        return None
    boxes = [objects_of(c, f, "box2d", np.asarray, human=h) for h in (True, False)]
    return render_overlay(Overlay(frame.image, boxes[0], boxes[1]))


def cuboids_from_above(frame: Frame, c: Comparison, f: int) -> bytes | None:
    if frame.points is None:
        return None
    cuboids = [objects_of(c, f, "cuboid3d", lambda block: block["box"], human=h) for h in (True, False)]
    return render_bev(BirdsEye(frame.points, cuboids[0], cuboids[1]))


PICTURES: dict[str, Picture] = {"box2d": boxes_on_image, "cuboid3d": cuboids_from_above}
