"""Track ids for the boxes of one clip with norfair (norfair-enough): IoU distance, its Kalman filter.

Offline, a track's id also goes to the boxes it was matched while it was still initializing (norfair only
reports a track once it has been seen ``initialization_delay`` + 1 times): the whole track is labelled.
Boxes of a track that never finished initializing get -1. Deterministic: norfair's matching is a greedy
scan of a stably sorted distance matrix, and ids are counted per tracker, so the same boxes give the same ids.

The distance is norfair's ``iou`` for boxes that have an area, and 1 (no overlap, as ``iou`` itself gives)
for a box that has none: a detection of zero width or height, or the Kalman estimate of a thin track
coasting unmatched, whose corners, predicted each with its own velocity, can cross (on
``synthetic://driving-seq?seed=2027&clips=4&length=40`` a pedestrian about 3 px wide ends at x_max < x_min).
norfair's ``iou`` gives those the same distance but logs "Incorrect bounding boxes" on every such call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from services.engine.chain.data import BoolArray
from services.engine.results import FloatArray, IntArray

if TYPE_CHECKING:  # norfair takes about a second to import: only a run that tracks pays for it
    from norfair import TrackedObject, Tracker

LIBRARY = "norfair-enough"


@dataclass(frozen=True)
class TrackParams:
    distance_threshold: float = field(default=0.7, metadata={"minimum": 0.0, "maximum": 1.0})
    hit_counter_max: int = field(default=8, metadata={"minimum": 1})
    initialization_delay: int = field(default=2, metadata={"minimum": 0})
    class_aware: bool = False
    kalman_r: float = field(default=4.0, metadata={"minimum": 0.0})
    kalman_q: float = field(default=0.1, metadata={"minimum": 0.0})
    kalman_pos_variance: float = field(default=10.0, metadata={"minimum": 0.0})
    kalman_vel_variance: float = field(default=1.0, metadata={"minimum": 0.0})

    def __post_init__(self) -> None:
        if self.initialization_delay >= self.hit_counter_max:
            raise ValueError("initialization_delay must be below hit_counter_max")


@dataclass(frozen=True)
class ClipTracks:
    """Per frame of the clip, a track id per box (1.., -1 = none); ``count``: ids handed out."""

    ids: list[IntArray]
    count: int


def track_clip(
    boxes: Sequence[FloatArray | None], categories: Sequence[IntArray | None], params: TrackParams,
) -> ClipTracks:
    """Track ids of the ``[x, y, w, h]`` boxes of a clip's frames in order (None: a failed frame, on which
    tracks coast as on a frame without boxes)."""
    from norfair import Detection

    tracker = _tracker(params)
    matched: dict[int, tuple[TrackedObject, list[tuple[int, int]]]] = {}  # initializing id -> object, its boxes
    for k, (frame_boxes, cats) in enumerate(zip(boxes, categories, strict=True)):
        labels = cats.tolist() if params.class_aware and cats is not None else None
        detections = [Detection(_corners(box), data=(k, j), label=None if labels is None else labels[j])
                      for j, box in enumerate([] if frame_boxes is None else frame_boxes)]
        tracker.update(detections)
        for obj in tracker.tracked_objects:
            frame, box = obj.last_detection.data
            if frame == k:  # matched (or started) on this frame
                matched.setdefault(int(obj.initializing_id or 0), (obj, []))[1].append((k, box))
    ids = [np.full(0 if b is None else len(b), -1, dtype=np.int64) for b in boxes]
    for obj, hits in matched.values():
        track = obj.id
        if track is None:  # never left initialization
            continue
        for k, j in hits:
            ids[k][j] = track
    return ClipTracks(ids, tracker.total_object_count)


def _tracker(params: TrackParams) -> Tracker:
    from norfair import OptimizedKalmanFilterFactory, Tracker
    from norfair.distances import VectorizedDistance

    tracker = Tracker(
        distance_function="iou", distance_threshold=params.distance_threshold,
        hit_counter_max=params.hit_counter_max, initialization_delay=params.initialization_delay,
        filter_factory=OptimizedKalmanFilterFactory(
            R=params.kalman_r, Q=params.kalman_q, pos_variance=params.kalman_pos_variance,
            vel_variance=params.kalman_vel_variance),
        past_detections_length=0,
    )
    tracker.distance_function = VectorizedDistance(box_distance)  # Tracker takes a name or a scalar function only
    return tracker


def box_distance(candidates: FloatArray, objects: FloatArray) -> FloatArray:
    """``1 - IoU`` of ``[x_min, y_min, x_max, y_max]`` rows, candidates by objects: norfair's ``iou`` where both
    boxes have an area, 1 where one has none (they overlap nothing; ``iou`` gives 1 there too, with a warning)."""
    from norfair.distances import iou

    distances = np.ones((len(candidates), len(objects)))
    rows, columns = _has_area(candidates), _has_area(objects)
    if rows.any() and columns.any():
        distances[np.ix_(rows, columns)] = iou(candidates[rows], objects[columns])
    return distances


def _has_area(corners: FloatArray) -> BoolArray:
    return (corners[:, 0] < corners[:, 2]) & (corners[:, 1] < corners[:, 3])


def _corners(box: FloatArray) -> FloatArray:
    x, y, w, h = (float(v) for v in box)
    return np.array([[x, y], [x + w, y + h]], dtype=np.float64)
