"""``track``: persistent track ids for boxes across the frames of each clip (norfair, IoU + Kalman filter).

Frames are grouped into clips by ``video_id`` and ordered by ``frame_index`` (frames without a video id are
one clip for the source, in source order); a new tracker starts for each clip. Ids are unique over the run:
1, 2, ... in order of clip, then of the track's start. A box's class is carried per box (``category_ids``
unchanged); the postprocess step can smooth it along the track. Parameters:

- ``distance_threshold`` (0.7): the largest 1 - IoU between a track's predicted box and a box it is matched to;
- ``hit_counter_max`` (8): a track's inertia: each match adds 2 (up to this), each frame takes 1, and the track
  ends below 0, so an unmatched track lives about this many frames;
- ``initialization_delay`` (2): a track counts once its counter passes this (below ``hit_counter_max``); boxes
  of a track that never does get no id (-1);
- ``class_aware`` (false): match only boxes of the track's class (norfair's labels);
- ``kalman_r`` (4.0), ``kalman_q`` (0.1), ``kalman_pos_variance`` (10.0), ``kalman_vel_variance`` (1.0): norfair's
  OptimizedKalmanFilter: measurement noise, process noise, initial position and velocity variances.

Version: ``norfair-enough-<library version>-<parameter hash>``.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import version as installed_version
from typing import Any

import numpy as np

from analysis.exceptions import InvalidInput
from services.engine.chain.data import StepOutput, clips
from services.engine.chain.params import params_hash
from services.engine.chain.registry import register
from services.engine.chain.step import ChainStep, RunContext
from services.engine.chain.tracking import LIBRARY, TrackParams, track_clip


@register("track")
class TrackStep(ChainStep):
    Params = TrackParams

    def version(self) -> str:
        return f"{LIBRARY}-{installed_version(LIBRARY)}-{params_hash(self.parameters())}"

    def parameters(self) -> dict[str, Any]:
        return {**super().parameters(), "distance": "iou", "filter": "OptimizedKalmanFilter"}

    def prepare(self, context: RunContext) -> None:
        import norfair  # noqa: F401 (about a second, once per process: timed as set-up, not as tracking)

    def run(self, data: StepOutput | None, context: RunContext) -> StepOutput:
        if data is None:
            raise InvalidInput(self.name, "", "the track step needs the output of a step before it")
        params: TrackParams = self.spec.params
        track_ids = [np.zeros(0, dtype=np.int64)] * len(data)
        offset = 0
        for positions in clips(data.frames):
            results = [data.results[i] for i in positions]
            tracks = track_clip([r.boxes if r.ok else None for r in results],
                                [r.category_ids if r.ok else None for r in results], params)
            for i, ids in zip(positions, tracks.ids, strict=True):
                track_ids[i] = np.where(ids > 0, ids + offset, -1)
            offset += tracks.count
        out = tuple(replace(r, track_ids=t) if r.ok else r for r, t in zip(data.results, track_ids, strict=True))
        return StepOutput(data.frames, out, data.interpolated)
