"""Boxes without an area in the track step: a zero-width detection, and the Kalman estimate of a thin track that
coasts until its corners cross. norfair's ``iou`` logs "Incorrect bounding boxes" for them; the track step's
distance does not, and the ids stay what norfair's ``iou`` gives."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from norfair.distances import iou

from services.engine.chain import tracking
from services.engine.chain.tracking import TrackParams, box_distance, track_clip
from services.engine.results import FloatArray

WARNING = "Incorrect bounding boxes"


def clip() -> list[FloatArray]:
    """A car driving right; a thin pedestrian narrowing for 8 frames, then gone (its track coasts); on frame 10 a
    detection of zero width."""
    frames = []
    for k in range(20):
        boxes = [(200.0 + 2 * k, 50.0, 30.0, 20.0)]
        if k < 8:
            boxes.append((100.0 + 0.5 * k, 60.0, 6.0 - 0.6 * k, 12.0))
        if k == 10:
            boxes.append((150.0, 40.0, 0.0, 10.0))
        frames.append(np.array(boxes))
    return frames


def ids(frames: list[FloatArray]) -> list[list[int]]:
    cats = [np.ones(len(b), np.int64) for b in frames]
    return [i.tolist() for i in track_clip(frames, cats, TrackParams()).ids]


def no_area(corners: FloatArray) -> int:
    return int(((corners[:, 0] >= corners[:, 2]) | (corners[:, 1] >= corners[:, 3])).sum())


def test_a_clip_with_boxes_of_no_area_tracks_without_norfair_warnings(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    seen = {"detections": 0, "estimates": 0}

    def spy(candidates: FloatArray, objects: FloatArray) -> FloatArray:
        seen["detections"] += no_area(candidates)
        seen["estimates"] += no_area(objects)
        return box_distance(candidates, objects)

    monkeypatch.setattr(tracking, "box_distance", spy)
    with caplog.at_level(logging.WARNING):
        result = ids(clip())
    assert seen["detections"] >= 1 and seen["estimates"] >= 1  # the clip does hand the distance both kinds
    assert not [r for r in caplog.records if WARNING in r.getMessage()]
    assert WARNING not in capsys.readouterr().err
    assert result == [[2, 1]] * 8 + [[2]] * 2 + [[2, -1]] + [[2]] * 9  # the zero-width box gets no id


def test_the_ids_are_those_of_norfairs_own_iou_which_warns(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    ours = ids(clip())
    monkeypatch.setattr(tracking, "box_distance", iou)
    with caplog.at_level(logging.WARNING, logger="norfair"):
        theirs = ids(clip())
    assert theirs == ours
    assert any(WARNING in r.getMessage() for r in caplog.records)


P, Q = [0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 15.0, 10.0]


@pytest.mark.parametrize(
    ("candidates", "objects"),
    [
        ([P, Q], [Q, P]),                                          # all with an area: norfair's iou, value for value
        ([P, [3.0, 0.0, 3.0, 10.0]], [P]),                         # a zero-width detection
        ([P, Q], [[5.0, 0.0, 4.9, 10.0], P]),                      # an estimate whose corners crossed
        ([[0.0, 5.0, 10.0, 5.0]], [[5.0, 0.0, 4.0, 10.0]]),       # nothing with an area
    ],
)
def test_box_distance_is_norfairs_iou_value_for_value(candidates: list[list[float]],
                                                      objects: list[list[float]]) -> None:
    c, o = np.array(candidates), np.array(objects)
    logging.disable(logging.WARNING)  # norfair's iou warns on the degenerate rows; its values are what we compare
    try:
        expected = iou(c, o)
    finally:
        logging.disable(logging.NOTSET)
    assert box_distance(c, o).tolist() == expected.tolist()
