"""What a model runner returns for one frame, and how results become COCO results (boxes, or cuboids)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from analysis.geometry import write_geometry
from analysis.geometry.cuboids import Cuboid

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class AutomationResult:
    """The machine's annotation of one frame.

    ``boxes`` are COCO ``[x, y, width, height]`` in the frame's pixels with their
    ``category_ids`` and ``scores``; ``tags`` are image-level labels with their
    probabilities in ``tag_scores``; ``confidence`` is the model's belief that the
    whole frame is right, which the router samples on. A frame the engine could
    not process has ``error`` set and nothing else. ``track_ids`` (int64, one per box, -1 = none) are set by
    the track step of a chain (:mod:`services.engine.chain`); empty when nothing tracked. ``GEOMETRY`` names the
    registered geometry kind (``analysis/geometry``) the rows of ``boxes`` are.
    """

    GEOMETRY: ClassVar[str] = "box2d"


    frame_id: int
    model_version: str
    boxes: FloatArray = field(default_factory=lambda: np.zeros((0, 4)))
    category_ids: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    scores: FloatArray = field(default_factory=lambda: np.zeros(0))
    tags: Mapping[str, str] = field(default_factory=dict)
    tag_scores: Mapping[str, float] = field(default_factory=dict)
    confidence: float = float("nan")
    inference_ms: float = 0.0
    error: str | None = None
    track_ids: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def ok(self) -> bool:
        return self.error is None

    def geometry_values(self) -> list[Any]:
        """Each row of ``boxes`` as the value its geometry kind's reader gives (``analysis/geometry``)."""
        return [tuple(b) for b in self.boxes.tolist()]


@dataclass(frozen=True, eq=False)
class CuboidResult(AutomationResult):
    """A 3D detector's annotation of a point-cloud frame: ``boxes`` are cuboids (N, 7: x, y, z, length, width,
    height, yaw; metres and radians, z the centre's height) in the coordinate system ``coordinate_system``."""

    GEOMETRY: ClassVar[str] = "cuboid3d"

    boxes: FloatArray = field(default_factory=lambda: np.zeros((0, 7)))
    coordinate_system: str = ""

    def geometry_values(self) -> list[Any]:
        return [Cuboid((b[0], b[1], b[2]), (b[3], b[4], b[5]), b[6], self.coordinate_system)
                for b in self.boxes.tolist()]


def failed(frame_id: int, model_version: str, error: str) -> AutomationResult:
    return AutomationResult(frame_id=frame_id, model_version=model_version, error=error)


def to_coco_results(results: Sequence[AutomationResult]) -> dict[str, Any]:
    """A COCO results object: box records (with ``track_id`` when tracked) plus per-frame tags, confidence and
    model version. A record of another geometry kind (a :class:`CuboidResult`'s) carries its wire form
    (``{"type": "cuboid3d", "centre": ..., "size": ..., "yaw": ..., "frame": ...}``, metres to 0.1 mm) under
    ``geometry`` instead of a ``bbox``.

    Failed frames are listed with their error so nothing is silently dropped.
    """
    annotations: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for r in results:
        if not r.ok:
            images.append({"id": r.frame_id, "error": r.error, "model_version": r.model_version})
            continue
        shapes = _shapes(r)
        tracks = r.track_ids.tolist() if len(r.track_ids) else [-1] * len(shapes)
        for shape, cat, score, track in zip(shapes, r.category_ids.tolist(), r.scores.tolist(), tracks, strict=True):
            record: dict[str, Any] = {"image_id": r.frame_id, "category_id": cat, **shape, "score": round(score, 5)}
            if track >= 0:
                record["track_id"] = track
            annotations.append(record)
        image: dict[str, Any] = {"id": r.frame_id, "confidence": round(r.confidence, 6),
                                 "model_version": r.model_version, "inference_ms": round(r.inference_ms, 3)}
        if r.tags:
            image["tags"] = dict(r.tags)
            image["tag_scores"] = {k: round(v, 6) for k, v in r.tag_scores.items()}
        images.append(image)
    return {"annotations": annotations, "images": images}


def _shapes(r: AutomationResult) -> list[dict[str, Any]]:
    """Each object's geometry as its record's key: ``bbox`` (pixels to 0.01), or ``geometry`` (its wire form)."""
    if r.GEOMETRY == AutomationResult.GEOMETRY:
        return [{"bbox": box} for box in np.round(r.boxes, 2).tolist()]
    rounded = replace(r, boxes=np.round(r.boxes, 4))
    return [{"geometry": write_geometry(r.GEOMETRY, v)} for v in rounded.geometry_values()]
