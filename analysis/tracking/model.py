"""One side's tracks in one clip: the detections a tracker or the annotators produced, with their track ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.tracking import columns
from analysis.tracking.columns import BoolArray, FloatArray, IntArray
from analysis.tracking.exceptions import InvalidTracks


@dataclass(frozen=True, eq=False)
class Tracks:
    """Detections of one clip on one side (ground truth or hypothesis), one row each.

    ``frame`` is the 0-based frame index in ``0..num_frames-1``; ``track_id`` any int64 (non-contiguous and
    negative ids are fine), unique within a frame; ``boxes`` are COCO ``[x, y, width, height]`` in pixels with
    ``x, y`` the top-left corner on a 0-based pixel grid. ``category``, ``confidence`` and ``visibility`` are
    optional per-row columns the metrics ignore (MOTChallenge files carry them). A frame without rows is an
    empty frame; the clip length is explicit, so empty frames at the end count too. Rows may come in any order.

    Build with :meth:`from_arrays`, which validates and copies; arrays are read-only afterwards.
    """

    num_frames: int
    frame: IntArray
    track_id: IntArray
    boxes: FloatArray
    category: IntArray | None = None
    confidence: FloatArray | None = None
    visibility: FloatArray | None = None

    @classmethod
    def from_arrays(
        cls, *, num_frames: int, frame: Any, track_id: Any, boxes: Any, category: Any = None,
        confidence: Any = None, visibility: Any = None, source: str = "tracks",
    ) -> Tracks:
        """Validated tracks; errors name ``source``, the column and the first bad row."""
        if isinstance(num_frames, bool) or not isinstance(num_frames, int | np.integer) or num_frames < 0:
            raise InvalidTracks(source, "num_frames", f"expected a whole number >= 0, got {num_frames!r}")
        frames = columns.integers(frame, "frame", source, None)
        n = len(frames)
        tracks = cls(
            num_frames=int(num_frames), frame=frames,
            track_id=columns.integers(track_id, "track_id", source, n),
            boxes=columns.boxes(boxes, source, n),
            category=None if category is None else columns.integers(category, "category", source, n),
            confidence=None if confidence is None else columns.reals(confidence, "confidence", source, n),
            visibility=None if visibility is None else columns.reals(visibility, "visibility", source, n),
        )
        _check_frames(tracks, source)
        _check_unique(tracks, source)
        return tracks

    @classmethod
    def empty(cls, num_frames: int) -> Tracks:
        """A clip of ``num_frames`` frames with no detections."""
        return cls.from_arrays(num_frames=num_frames, frame=np.empty(0, np.int64),
                               track_id=np.empty(0, np.int64), boxes=np.empty((0, 4)))

    def __len__(self) -> int:
        return len(self.frame)

    def select(self, rows: BoolArray | IntArray) -> Tracks:
        """The rows picked by a boolean mask or by indices, in that order; the clip length stays."""
        def pick(column: Any) -> Any:
            return None if column is None else columns.frozen(column[rows])

        return Tracks(self.num_frames, pick(self.frame), pick(self.track_id), pick(self.boxes),
                      pick(self.category), pick(self.confidence), pick(self.visibility))

    def of_category(self, category: int) -> Tracks:
        """Only the rows of one category (per-class evaluation); needs the category column."""
        if self.category is None:
            raise InvalidTracks("tracks", "category", "these tracks carry no category column")
        return self.select(self.category == category)


def _check_frames(tracks: Tracks, source: str) -> None:
    outside = (tracks.frame < 0) | (tracks.frame >= tracks.num_frames)
    if outside.any():
        i = int(np.argmax(outside))
        raise InvalidTracks(source, f"frame[{i}]", f"must be in 0..{tracks.num_frames - 1} "
                                                   f"(num_frames={tracks.num_frames}), got {tracks.frame[i]}")


def _check_unique(tracks: Tracks, source: str) -> None:
    order = np.lexsort((tracks.track_id, tracks.frame))
    same = (np.diff(tracks.frame[order]) == 0) & (np.diff(tracks.track_id[order]) == 0)
    if same.any():
        k = int(np.argmax(same))
        first, second = sorted((int(order[k]), int(order[k + 1])))
        raise InvalidTracks(source, f"track_id[{second}]", f"track {tracks.track_id[second]} appears twice in frame "
                                                           f"{tracks.frame[second]} (rows {first} and {second})")
