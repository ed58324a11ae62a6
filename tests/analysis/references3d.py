"""Independent references for the cuboid geometry and nuScenes-style 3D detection scores.

Overlaps: shapely (2.2) intersects the footprint polygons, multiplied by the
overlap of the height ranges, one pair at a time in shapely's own vectorised
calls. Detection scores: nuscenes-devkit 1.2.0's ``accumulate``, ``calc_ap``
and ``calc_tp`` on ``EvalBoxes`` of ``DetectionBox``.

The devkit declares ``numpy<2`` and ``Shapely~=2.0.3``, yet the evaluation code
used here runs unchanged under numpy 2 and shapely 2.2: it is installed with
``pip install --no-deps nuscenes-devkit==1.2.0`` (its ``pyquaternion`` and
``cachetools`` listed in the test extras), and imported as it is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from analysis.annotations.coco_frames import parse_categories
from analysis.annotations.columns import FrameColumns, annotations_of, frames_of
from analysis.annotations.model import Annotations, FloatArray
from analysis.geometry.cuboids import Cuboid

NUSCENES_CLASSES = ("car", "pedestrian", "barrier", "traffic_cone")  # detection names the devkit accepts
Frames = list[list[tuple[FloatArray, int]]]  # per frame: (cuboid, class index) of each manual object
Detections = list[list[tuple[FloatArray, int, float]]]  # per frame: (cuboid, class index, score)


def footprint(box: FloatArray) -> Any:
    """The footprint polygon of one (7,) cuboid, corners by the rotation matrix."""
    x, y, _, length, width, _, yaw = box.tolist()
    rot = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])
    local = np.array([[length, width], [-length, width], [-length, -width], [length, -width]]) / 2
    return shapely.Polygon(local @ rot.T + [x, y])


def shapely_ious(d: FloatArray, g: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row-wise (BEV IoU, 3D IoU) of two (K, 7) cuboid arrays; 0 where a union is empty."""
    pd = np.array([footprint(b) for b in d])
    pg = np.array([footprint(b) for b in g])
    inter = shapely.area(shapely.intersection(pd, pg))
    a_d, a_g = shapely.area(pd), shapely.area(pg)
    bev = _safe(inter, a_d + a_g - inter)
    low = np.maximum(d[:, 2] - d[:, 5] / 2, g[:, 2] - g[:, 5] / 2)
    high = np.minimum(d[:, 2] + d[:, 5] / 2, g[:, 2] + g[:, 5] / 2)
    inter_3d = inter * np.clip(high - low, 0, None)
    v_d, v_g = a_d * d[:, 5], a_g * g[:, 5]
    return bev, _safe(inter_3d, v_d + v_g - inter_3d)


def _safe(inter: FloatArray, union: FloatArray) -> FloatArray:
    out = np.zeros(len(inter))
    np.divide(inter, union, out=out, where=union > 0)
    return out


def cuboid_sides(
    frames: list[list[tuple[FloatArray, int]]], detections: list[list[tuple[FloatArray, int, float]]],
) -> tuple[Annotations, Annotations]:
    """(automation, manual) Annotations of per-frame manual (box, class) and scored detections."""
    categories = parse_categories([{"id": i + 1, "name": n} for i, n in enumerate(NUSCENES_CLASSES)], "categories")
    images = frames_of(len(frames))
    manual = annotations_of(_columns(frames, None), images, categories, kind="cuboid3d", source="manual")
    scores = [s for f in detections for _, _, s in f]
    automation = annotations_of(_columns([[(b, c) for b, c, _ in f] for f in detections], scores), images,
                                categories, kind="cuboid3d", source="automation")
    return automation, manual


def _columns(frames: list[list[tuple[FloatArray, int]]], scores: list[float] | None) -> FrameColumns:
    objects = [o for f in frames for o in f]
    values = [Cuboid((b[0], b[1], b[2]), (b[3], b[4], b[5]), b[6]) for b, _ in (
        (tuple(float(v) for v in box), c) for box, c in objects)]
    return FrameColumns(counts=[len(f) for f in frames], kinds=["cuboid3d"] * len(objects), values=values,
                        category_ids=[c + 1 for _, c in objects], tags=[{} for _ in frames], scores=scores)


def devkit_boxes(frames: list[list[tuple[FloatArray, int]]], scores: list[list[float]] | None) -> Any:
    """``EvalBoxes`` of ``DetectionBox``, samples in frame order (nuScenes sizes are width, length, height)."""
    from nuscenes.eval.common.data_classes import EvalBoxes
    from nuscenes.eval.detection.data_classes import DetectionBox
    from pyquaternion import Quaternion

    boxes = EvalBoxes()
    for f, objects in enumerate(frames):
        boxes.add_boxes(f"sample-{f}", [DetectionBox(
            sample_token=f"sample-{f}", translation=tuple(box[:3].tolist()),
            size=(float(box[4]), float(box[3]), float(box[5])),
            rotation=tuple(Quaternion(axis=[0, 0, 1], angle=float(box[6])).elements.tolist()),
            detection_name=NUSCENES_CLASSES[c], detection_score=-1.0 if scores is None else float(scores[f][i]),
        ) for i, (box, c) in enumerate(objects)])
    return boxes


def devkit_metrics(gt: Any, pred: Any, class_name: str, distance: float) -> Any:
    """The devkit's ``accumulate`` for one class at one centre-distance threshold."""
    from nuscenes.eval.common.utils import center_distance
    from nuscenes.eval.detection.algo import accumulate

    return accumulate(gt, pred, class_name, center_distance, distance)


def nuscenes_scene(seed: int, n_frames: int) -> tuple[Frames, Detections]:
    """Manual cuboids in a 40 m square; detections jitter most of them, plus clutter. Scores are
    rounded to 0.05 so ties occur; some manual cuboids are duplicated, so distance ties occur too."""
    rng = np.random.default_rng(seed)
    frames, detections = [], []
    for _ in range(n_frames):
        gts = []
        for _ in range(int(rng.integers(0, 12))):
            box = np.r_[rng.uniform(-20, 20, 2), rng.uniform(-1, 1), rng.uniform(0.3, 5, 3), rng.uniform(-4, 4)]
            gts.append((box, int(rng.integers(len(NUSCENES_CLASSES)))))
            if rng.random() < 0.1:
                gts.append(gts[-1])
        dets = []
        for box, c in gts:
            if rng.random() < 0.8:
                noisy = box + np.r_[rng.normal(0, 0.8, 3), rng.normal(0, 0.2, 3), rng.normal(0, 0.6)]
                noisy[3:6] = np.abs(noisy[3:6]) + 0.05
                dets.append((noisy, c if rng.random() < 0.9 else int(rng.integers(len(NUSCENES_CLASSES)))))
        for _ in range(int(rng.integers(0, 4))):
            dets.append((np.r_[rng.uniform(-20, 20, 2), 0.0, rng.uniform(0.3, 5, 3), rng.uniform(-4, 4)],
                         int(rng.integers(len(NUSCENES_CLASSES)))))
        scores = np.round(rng.uniform(0.05, 1.0, len(dets)) * 20) / 20
        frames.append(gts)
        detections.append([(b, c, float(s)) for (b, c), s in zip(dets, scores, strict=True)])
    return frames, detections
