"""The track step on hand-made detections: crossing objects, a gap, leaving and re-entering, clips."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from services.engine.chain.data import FrameInfo, StepOutput
from services.engine.chain.step import RunContext, StepSpec
from services.engine.chain.steps.track import TrackStep
from services.engine.chain.tracking import TrackParams, track_clip
from tests.services.engine.chain.helpers import Box, moving, output, result

EMPTY: list[Box] = []


def ids_of(frames: Sequence[Sequence[Box]], params: TrackParams | None = None,
           cats: Sequence[Sequence[int]] | None = None) -> list[list[int]]:
    boxes = [np.array(f, dtype=np.float64).reshape(-1, 4) for f in frames]
    categories = [np.array(c, dtype=np.int64) for c in cats] if cats else [np.ones(len(f), np.int64) for f in frames]
    return [ids.tolist() for ids in track_clip(boxes, categories, params or TrackParams()).ids]


def test_two_objects_crossing_keep_their_ids() -> None:
    a, b = moving((10, 50, 30, 30), (8, 0), 30), moving((250, 55, 30, 30), (-8, 0), 30)
    ids = ids_of([[a[k], b[k]] for k in range(30)])
    assert ids == [[1, 2]] * 30  # at frames 14-16 the boxes overlap by IoU > 0.5 and still keep their ids


def test_crossing_swapped_in_the_detector_output_order_follows_the_objects() -> None:
    a, b = moving((10, 50, 30, 30), (8, 0), 30), moving((250, 55, 30, 30), (-8, 0), 30)
    ids = ids_of([[a[k], b[k]] if k % 2 else [b[k], a[k]] for k in range(30)])
    assert ids == [[2, 1] if k % 2 else [1, 2] for k in range(30)]  # b came first in frame 0: track 1


def test_a_short_gap_keeps_the_id() -> None:
    a = moving((10, 50, 30, 30), (5, 0), 30)
    ids = ids_of([EMPTY if 10 <= k <= 12 else [a[k]] for k in range(30)])
    assert ids == [[] if 10 <= k <= 12 else [1] for k in range(30)]


def test_an_object_leaving_for_longer_than_the_tracks_inertia_comes_back_with_a_new_id() -> None:
    box = (100.0, 50.0, 30.0, 30.0)
    frames = [EMPTY if 8 <= k <= 22 else [box] for k in range(30)]
    assert ids_of(frames) == [[1]] * 8 + [[]] * 15 + [[2]] * 7
    assert ids_of(frames, TrackParams(hit_counter_max=20)) == [[1]] * 8 + [[]] * 15 + [[1]] * 7


@pytest.mark.parametrize(("seen", "delay", "expected"), [
    (1, 2, [[-1]]),                           # seen once: never a track
    (2, 2, [[-1], [-1]]),                     # twice: still initializing
    (3, 2, [[1], [1], [1]]),                  # three times: a track, and its first boxes get its id too
    (1, 0, [[1]]),                            # no delay: a track at once
])
def test_a_track_gets_its_id_back_to_its_first_box_once_initialized(
        seen: int, delay: int, expected: list[list[int]]) -> None:
    assert ids_of([[(10.0, 10.0, 20.0, 20.0)]] * seen, TrackParams(initialization_delay=delay)) == expected


def test_class_aware_tracking_does_not_match_across_classes() -> None:
    frames = [[(10.0, 10.0, 20.0, 20.0)]] * 6
    cats = [[1]] * 3 + [[2]] * 3
    assert ids_of(frames, TrackParams(), cats) == [[1]] * 6
    assert ids_of(frames, TrackParams(class_aware=True, initialization_delay=0), cats) == [[1]] * 3 + [[2]] * 3


def test_tracking_is_deterministic() -> None:
    rng = np.random.default_rng(7)
    frames = [[(*tuple(rng.uniform(0, 200, 2)), 30.0, 30.0) for _ in range(5)] for _ in range(20)]
    assert ids_of(frames) == ids_of(frames)


def _step(**params: object) -> TrackStep:
    return TrackStep(StepSpec("track", "track", TrackParams(**params)))  # type: ignore[arg-type]


def test_the_step_tracks_each_clip_apart_in_frame_index_order_with_ids_unique_over_the_run() -> None:
    box = (10.0, 10.0, 20.0, 20.0)
    frames = [FrameInfo(10 + i, video, index) for i, (video, index) in
              enumerate([(2, 1), (1, 0), (2, 0), (1, 1), (1, 2), (2, 2)])]
    results = tuple(result(f.frame_id, [box]) for f in frames)
    out = _step(initialization_delay=0).run(StepOutput(tuple(frames), results), RunContext())
    assert [r.track_ids.tolist() for r in out.results] == [[2], [1], [2], [1], [1], [2]]
    assert [r.category_ids.tolist() for r in out.results] == [[1]] * 6  # a box's class is carried unchanged


def test_the_step_passes_failed_frames_through_and_coasts_over_them() -> None:
    a = moving((10, 50, 30, 30), (5, 0), 8)
    data = output([[a[k]] for k in range(8)])
    failed = data.results[4].__class__(5, "hand", error="frame 5: unreadable")
    data = StepOutput(data.frames, (*data.results[:4], failed, *data.results[5:]))
    out = _step().run(data, RunContext())
    assert out.results[4].error == "frame 5: unreadable"
    assert [r.track_ids.tolist() for r in out.results if r.ok] == [[1]] * 7


def test_the_step_reports_its_library_and_parameters_in_its_version() -> None:
    step, other = _step(), _step(distance_threshold=0.5)
    assert step.version().startswith("norfair-enough-2.4.3-")
    assert step.version() != other.version()
    assert step.parameters()["distance"] == "iou" and step.parameters()["distance_threshold"] == 0.7
