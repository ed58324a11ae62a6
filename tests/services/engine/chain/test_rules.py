"""Post-processing rules as tables, and the postprocess step that applies them in order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from services.engine.chain.data import FrameInfo, StepOutput
from services.engine.chain.rules import BoxTable, drop_short_tracks, interpolate_gaps, smooth_classes
from services.engine.chain.step import RunContext, StepSpec
from services.engine.chain.steps.postprocess import PostprocessParams, PostprocessStep, to_table
from services.engine.results import AutomationResult
from tests.services.engine.chain.helpers import output, result


def table(tracks: Sequence[int], frames: Sequence[int] | None = None, cats: Sequence[int] | None = None,
          scores: Sequence[float] | None = None, interpolated: Sequence[bool] | None = None) -> BoxTable:
    n = len(tracks)
    index = np.array(frames if frames is not None else range(n), dtype=np.int64)
    return BoxTable(
        frame=index.copy(), clip=np.ones(n, np.int64), frame_index=index, order=np.zeros(n, np.int64),
        boxes=np.array([[10.0 * f, 0.0, 10.0, 10.0] for f in index]).reshape(n, 4),
        category_ids=np.array(cats or [1] * n, np.int64), scores=np.array(scores or [0.9] * n, np.float64),
        track_ids=np.array(tracks, np.int64), interpolated=np.array(interpolated or [False] * n, bool))


@pytest.mark.parametrize(("tracks", "interpolated", "min_length", "drop_untracked", "kept"), [
    ([1, 1, 1, 2, 2], None, 3, True, [1, 1, 1]),
    ([1, 1, 1, 2, 2], None, 2, True, [1, 1, 1, 2, 2]),
    ([1, 1, 1, 2, 2], None, 4, True, []),
    ([1, -1, 2, -1], None, 1, True, [1, 2]),
    ([1, -1, 2, -1], None, 1, False, [1, -1, 2, -1]),
    ([1, 1, 1], [False, True, False], 3, True, []),          # interpolated boxes do not count
    ([1, 1, 1], [False, True, False], 2, True, [1, 1, 1]),
])
def test_drop_short_tracks(tracks: list[int], interpolated: list[bool] | None, min_length: int,
                           drop_untracked: bool, kept: list[int]) -> None:
    out = drop_short_tracks(table(tracks, interpolated=interpolated), min_length, drop_untracked=drop_untracked)
    assert out.track_ids.tolist() == kept


@pytest.mark.parametrize(("tracks", "cats", "scores", "expected"), [
    ([1, 1, 1], [3, 3, 4], [0.5, 0.5, 0.9], [3, 3, 3]),              # majority wins over a higher score
    ([1, 1, 2, 2], [3, 4, 5, 5], [0.5, 0.9, 0.1, 0.1], [4, 4, 5, 5]),  # tie: larger summed score
    ([1, 1], [4, 3], [0.5, 0.5], [3, 3]),                            # tie on both: smaller category id
    ([1, -1, 1], [2, 7, 2], [0.9, 0.9, 0.9], [2, 7, 2]),              # untracked boxes keep their class
])
def test_smooth_classes(tracks: list[int], cats: list[int], scores: list[float], expected: list[int]) -> None:
    assert smooth_classes(table(tracks, cats=cats, scores=scores)).category_ids.tolist() == expected


def test_smooth_classes_votes_with_seen_boxes_only() -> None:
    t = table([1, 1, 1, 1], cats=[3, 4, 4, 3], interpolated=[False, True, True, False], scores=[0.5, 0.9, 0.9, 0.6])
    assert smooth_classes(t).category_ids.tolist() == [3, 3, 3, 3]


ALL_FRAMES = {(1, f): f for f in range(20)}


@pytest.mark.parametrize(("frames", "max_gap", "available", "filled"), [
    ([0, 3], 2, ALL_FRAMES, [1, 2]),
    ([0, 3], 1, ALL_FRAMES, []),                  # a gap of 2 > max_gap 1
    ([0, 1], 5, ALL_FRAMES, []),                  # no gap
    ([0, 6, 8], 5, ALL_FRAMES, [1, 2, 3, 4, 5, 7]),
    ([0, 4], 0, ALL_FRAMES, []),
    ([0, 4], 5, {k: v for k, v in ALL_FRAMES.items() if k != (1, 2)}, [1, 3]),  # frame 2 missing or failed
])
def test_interpolate_gaps_fills_these_frames(frames: list[int], max_gap: int, available: dict[tuple[int, int], int],
                                             filled: list[int]) -> None:
    out = interpolate_gaps(table([1] * len(frames), frames), max_gap, available)
    assert out.frame_index[out.interpolated].tolist() == filled
    assert out.frame_index[~out.interpolated].tolist() == frames


@pytest.mark.parametrize(("at", "box"), [
    (1, [12.5, 22.5, 12.5, 12.5]), (2, [15.0, 25.0, 15.0, 15.0]), (3, [17.5, 27.5, 17.5, 17.5]),
])
def test_interpolated_boxes_are_linear_in_the_frame_index_with_the_smaller_score(at: int, box: list[float]) -> None:
    t = table([7, 7], [0, 4], cats=[2, 2], scores=[0.8, 0.6])
    t = BoxTable(**{**t.columns(), "boxes": np.array([[10.0, 20.0, 10.0, 10.0], [20.0, 30.0, 20.0, 20.0]])})
    out = interpolate_gaps(t, 5, ALL_FRAMES)
    row = np.flatnonzero(out.interpolated & (out.frame_index == at))
    assert len(row) == 1
    np.testing.assert_allclose(out.boxes[row[0]], box, rtol=0, atol=1e-12)
    assert out.scores[row[0]] == 0.6 and out.category_ids[row[0]] == 2 and out.track_ids[row[0]] == 7


def _post(**params: object) -> PostprocessStep:
    return PostprocessStep(StepSpec("post", "postprocess", PostprocessParams(**params)))  # type: ignore[arg-type]


def test_the_step_drops_smooths_and_interpolates_keeping_each_frames_box_order() -> None:
    b1, b2, u = (0.0, 0.0, 10.0, 10.0), (50.0, 0.0, 10.0, 10.0), (90.0, 90.0, 5.0, 5.0)
    data = output(
        [[b1, b2], [b2, u], [b1, b2], [], [b1]],
        cats=[[1, 5], [5, 9], [2, 5], [], [1]], tracks=[[1, 2], [2, -1], [1, 2], [], [1]],
        scores=[[0.9, 0.8], [0.7, 0.5], [0.6, 0.9], [], [0.4]])
    out = _post(min_track_length=3, max_gap=2).run(data, RunContext())
    assert [r.track_ids.tolist() for r in out.results] == [[1, 2], [2, 1], [1, 2], [1], [1]]
    assert [m.tolist() for m in out.interpolated] == [[False, False], [False, True], [False, False], [True], [False]]
    assert [r.category_ids.tolist() for r in out.results] == [[1, 5], [5, 1], [1, 5], [1], [1]]
    assert out.results[1].scores.tolist() == [0.7, 0.6]  # the interpolated box: min(0.9, 0.6)
    assert [r.confidence for r in out.results] == [0.5] * 5


def test_the_step_leaves_failed_frames_as_they_are() -> None:
    data = output([[(0.0, 0.0, 10.0, 10.0)]] * 4, tracks=[[1]] * 4)
    broken = AutomationResult(3, "hand", error="frame 3: unreadable")
    data = StepOutput(data.frames, (*data.results[:2], broken, *data.results[3:]))
    out = _post(min_track_length=1, max_gap=5).run(data, RunContext())
    assert out.results[2] is broken
    assert [len(r.boxes) for r in out.results] == [1, 1, 0, 1]


def test_the_step_keeps_untracked_boxes_when_asked() -> None:
    data = output([[(0.0, 0.0, 10.0, 10.0)]], tracks=[[-1]])
    assert len(_post(drop_untracked=False).run(data, RunContext()).results[0].boxes) == 1
    assert len(_post(drop_untracked=True).run(data, RunContext()).results[0].boxes) == 0


def test_frames_of_another_clip_never_receive_boxes() -> None:
    frames = (FrameInfo(1, 1, 0), FrameInfo(2, 2, 1), FrameInfo(3, 1, 2))
    results = tuple(result(i + 1, [(0.0, 0.0, 1.0, 1.0)] if i != 1 else [], tracks=[1] if i != 1 else [])
                    for i in range(3))
    out = _post(min_track_length=1).run(StepOutput(frames, results), RunContext())
    assert [len(r.boxes) for r in out.results] == [1, 0, 1]


def test_to_table_reads_untracked_results_as_track_minus_one() -> None:
    t = to_table(output([[(0.0, 0.0, 1.0, 1.0), (2.0, 2.0, 1.0, 1.0)], []]))
    assert t.track_ids.tolist() == [-1, -1] and t.order.tolist() == [0, 1] and t.frame.tolist() == [0, 0]
