"""The tracks model: what it accepts, what it rejects and how each rejection names the place."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.exceptions import ShadowQAError
from analysis.tracking import Tracks
from analysis.tracking.exceptions import InvalidTracks

GOOD: dict[str, Any] = {
    "num_frames": 3, "frame": [0, 2, 2], "track_id": [7, 7, -10**12],
    "boxes": [[0, 0, 5, 5], [1.5, 2, 0, 3], [-4, -4, 8, 8]],
}


def make(**changes: Any) -> Tracks:
    return Tracks.from_arrays(**{**GOOD, **changes}, source="clip.txt")


def test_valid_rows_become_read_only_typed_columns() -> None:
    tracks = make(category=[1, 1, 2], confidence=[0.9, 1, -1], visibility=[1, 0.5, 0])
    assert len(tracks) == 3 and tracks.num_frames == 3
    assert tracks.frame.dtype == np.int64 and tracks.track_id.tolist() == [7, 7, -10**12]
    assert tracks.boxes.dtype == np.float64 and tracks.boxes.shape == (3, 4)
    with pytest.raises(ValueError, match="read-only"):
        tracks.boxes[0, 0] = 1.0


def test_whole_floats_are_accepted_as_ids_and_frames() -> None:
    tracks = make(frame=np.array([0.0, 2.0, 2.0]), track_id=np.array([7.0, 7.0, 3.0]))
    assert tracks.frame.tolist() == [0, 2, 2] and tracks.track_id.tolist() == [7, 7, 3]


def test_an_empty_clip_keeps_its_length() -> None:
    tracks = Tracks.empty(5)
    assert len(tracks) == 0 and tracks.num_frames == 5 and tracks.boxes.shape == (0, 4)
    assert len(Tracks.from_arrays(num_frames=0, frame=[], track_id=[], boxes=[])) == 0


def test_select_and_of_category_keep_the_clip_length() -> None:
    tracks = make(category=[1, 2, 1])
    ones = tracks.of_category(1)
    assert ones.num_frames == 3 and ones.track_id.tolist() == [7, -10**12]
    assert ones.category is not None and ones.category.tolist() == [1, 1] and ones.confidence is None
    with pytest.raises(InvalidTracks, match="no category column"):
        make().of_category(1)


@pytest.mark.parametrize(
    ("changes", "where", "problem"),
    [
        ({"num_frames": -1}, "num_frames", "whole number >= 0"),
        ({"num_frames": 2.0}, "num_frames", "whole number >= 0"),
        ({"num_frames": True}, "num_frames", "whole number >= 0"),
        ({"frame": [0, 3, 2]}, "frame[1]", "must be in 0..2"),
        ({"frame": [0, -1, 2]}, "frame[1]", "must be in 0..2"),
        ({"frame": [0, 1.5, 2]}, "frame[1]", "whole number"),
        ({"frame": [[0, 1, 2]]}, "frame", "1 dimension"),
        ({"track_id": [1, 2]}, "track_id", "expected 3 values"),
        ({"track_id": ["a", "b", "c"]}, "track_id", "real numbers"),
        ({"track_id": [True, False, True]}, "track_id", "real numbers"),
        ({"track_id": [1, np.nan, 3]}, "track_id[1]", "whole number"),
        ({"track_id": [1, 2.0**64, 3]}, "track_id[1]", "whole number"),
        ({"track_id": np.array([1, 2**63, 3], dtype=np.uint64)}, "track_id[1]", "64 bits"),
        ({"track_id": [7, 8, 8], "frame": [2, 2, 2]}, "track_id[2]", "track 8 appears twice in frame 2 (rows 1 and 2)"),
        ({"boxes": [[0, 0, 5, 5], [1, 1, 1, 1]]}, "boxes", "expected shape (3, 4)"),
        ({"boxes": [[0, 0, 5], [0, 0, 5], [0, 0, 5]]}, "boxes", "expected shape (3, 4)"),
        ({"boxes": [[0, 0, 5, 5], [0, 0, -1, 5], [0, 0, 1, 1]]}, "boxes[1]", "width is negative"),
        ({"boxes": [[0, 0, 5, 5], [0, 0, 1, 1], [0, 0, 1, -2]]}, "boxes[2]", "height is negative"),
        ({"boxes": [[0, 0, 5, 5], [0, np.inf, 1, 1], [0, 0, 1, 1]]}, "boxes[1]", "must be finite"),
        ({"category": [1, 2]}, "category", "expected 3 values"),
        ({"category": [1, 2, 0.5]}, "category[2]", "whole number"),
        ({"confidence": [1, np.nan, 1]}, "confidence[1]", "must be finite"),
        ({"visibility": [1j, 1, 1]}, "visibility", "real numbers"),
    ],
)
def test_bad_columns_are_named(changes: dict[str, Any], where: str, problem: str) -> None:
    with pytest.raises(InvalidTracks) as info:
        make(**changes)
    assert info.value.where == where and problem in info.value.problem
    assert str(info.value).startswith(f"clip.txt: {where}: ")
    assert isinstance(info.value, ShadowQAError)
