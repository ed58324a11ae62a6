"""A simulated person drawing cuboids in a point cloud: ground truth through the error model's cuboid knobs.

Per ground-truth cuboid (records with ``{"type": "cuboid3d", ...}`` geometry and ``num_points``):

- **Misses** by how many points the sensor put inside it: the box misses' rates with points for
  pixels (fewer than 5: ``miss_tiny``; 5-14: ``miss_small``; else ``miss_other``).
- **Centre** off by a normal error per axis whose sd grows with range (``centre_jitter`` +
  ``centre_jitter_per_m`` × distance; half of it in height, which the ground fixes); **size** off by
  ``box_jitter`` of each side; **heading** off by ``yaw_jitter``, and a sparse object (under 15
  points) now and then drawn facing the other way (``yaw_flip``: its outline is the same both ways).
- **Class** confused between similar classes as boxes are (``class_confusion``).
- **Extras**: in a frame with cuboids, now and then (``extra``) one more car-sized cuboid around
  clutter somewhere in the sensor's view.

Truth attributes (the point count) are the sensor's, not a label: the person draws none.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from services.replay.human import SIMILAR, HumanErrorModel

SPARSE_POINTS, FEW_POINTS = 5, 15  # a cuboid with fewer points is missed as a tiny box, as a small one
_CAR = (4.4, 1.8, 1.5)  # length, width, height (m) of what a person mistakes clutter for
_VIEW = (6.0, 45.0, math.radians(55))  # where an extra is drawn: range (m), half the field of view


def draw_cuboid(obj: dict[str, Any], *, model: HumanErrorModel, rng: np.random.Generator, names: dict[int, str],
                ids: dict[str, int]) -> dict[str, Any] | None:
    """The person's record of one ground-truth cuboid (None: missed)."""
    geometry = obj["geometry"]
    points = int(obj.get("attributes", {}).get("num_points", FEW_POINTS))
    if rng.random() < _miss_rate(model, points):
        return None
    centre, size = np.asarray(geometry["centre"], dtype=float), np.asarray(geometry["size"], dtype=float)
    sd = model.centre_jitter + model.centre_jitter_per_m * math.hypot(centre[0], centre[1])
    centre = centre + rng.normal(0.0, sd, 3) * (1.0, 1.0, 0.5)
    size = size + rng.normal(0.0, model.box_jitter, 3) * size
    yaw = float(geometry["yaw"]) + rng.normal(0.0, model.yaw_jitter)
    if rng.random() < model.yaw_flip and points < FEW_POINTS:
        yaw += math.pi
    name = names[obj["category_id"]]
    if name in SIMILAR and rng.random() < model.class_confusion:
        name = SIMILAR[name]
    return {"category_id": ids[name], "geometry": _cuboid(centre, size, yaw, geometry.get("frame", ""))}


def cuboid_extras(objects: list[dict[str, Any]], *, model: HumanErrorModel, rng: np.random.Generator,
                  ids: dict[str, int]) -> list[dict[str, Any]]:
    """The cuboids a person draws around nothing labelled in a frame of ``objects`` (rarely one)."""
    if rng.random() >= model.extra or "car" not in ids:
        return []
    near, far, half_view = _VIEW
    distance, bearing = rng.uniform(near, far), rng.uniform(-half_view, half_view)
    size = np.asarray(_CAR) * (1.0 + rng.normal(0.0, 0.08, 3))
    centre = np.array([distance * math.cos(bearing), distance * math.sin(bearing), size[2] / 2])
    yaw = rng.choice((0.0, math.pi)) + rng.normal(0.0, 0.1)
    frame = objects[0]["geometry"].get("frame", "") if objects else ""
    return [{"category_id": ids["car"], "geometry": _cuboid(centre, size, yaw, frame)}]


def _miss_rate(model: HumanErrorModel, points: int) -> float:
    if points < SPARSE_POINTS:
        return model.miss_tiny
    return model.miss_small if points < FEW_POINTS else model.miss_other


def _cuboid(centre: np.ndarray, size: np.ndarray, yaw: float, frame: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "cuboid3d", "centre": [round(float(v), 3) for v in centre],
                           "size": [round(max(float(v), 0.05), 3) for v in size],
                           "yaw": round(math.remainder(yaw, 2 * math.pi), 4)}
    if frame:
        doc["frame"] = frame
    return doc
