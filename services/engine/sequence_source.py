"""The frame source of synthetic driving clips: ``synthetic://driving-seq?seed=S&clips=C&length=L``.

Frames run clip by clip, ids ``1..C*L``; each frame's ``meta`` carries its
``tags`` (constant over a clip), ``video_id`` (1-based clip) and ``frame_index``
(0-based within the clip). The ground truth is COCO-video
(:mod:`services.datasets.driving.video_coco`) with a ``track_id`` per object.
A frame alone (:func:`sequence_frame`, the frame reference
``synthetic://driving-seq?seed=S&length=L#I``) and one clip's ground truth alone (:func:`clip_truth`) equal
those of the whole source.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from analysis.exceptions import InvalidInput
from services.datasets.driving.render import FrameLabels
from services.datasets.driving.sequence import MAX_LENGTH, label_clip_frame, render_clip_frame
from services.datasets.driving.video_coco import clip_file_name, clip_frame_records, video_ground_truth, video_id
from services.engine.frames import Frame

DEFAULT_CLIPS, DEFAULT_LENGTH = 4, 60


class SyntheticDrivingSequenceSource:
    """Frames ``0..clips*length-1`` of the driving clips of ``seed``, rendered lazily in order."""

    def __init__(self, seed: int = 0, clips: int = DEFAULT_CLIPS, length: int = DEFAULT_LENGTH) -> None:
        self.seed, self.clips, self.length = seed, clips, length
        self.name = f"synthetic://driving-seq?seed={seed}&clips={clips}&length={length}"
        if seed < 0 or clips < 0:
            raise InvalidInput(self.name, "", "seed and clips must be >= 0")
        if not 1 <= length <= MAX_LENGTH:
            raise InvalidInput(self.name, "length", f"expected 1 to {MAX_LENGTH} frames per clip, got {length}")
        self._labels: dict[int, FrameLabels] = {}

    def __len__(self) -> int:
        return self.clips * self.length

    def __iter__(self) -> Iterator[Frame]:
        return (self.frame(i) for i in range(len(self)))

    def frame(self, index: int) -> Frame:
        """Frame ``index`` (0-based over all clips) alone; its id is ``index + 1``."""
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name}: no frame {index}")
        frame, self._labels[index] = _rendered(self.seed, self.length, index, index + 1)
        return frame

    def ground_truth(self) -> dict[str, Any]:
        """The COCO-video ground truth; labels of frames not yet rendered are computed without pixels."""
        for i in range(len(self)):
            if i not in self._labels:
                clip, k = divmod(i, self.length)
                self._labels[i] = label_clip_frame(self.seed, clip, self.length, k)
        return video_ground_truth(
            (clip_frame_records(self._labels[i], *divmod(i, self.length)) for i in range(len(self))),
            self.seed, self.clips, self.length,
        )


def sequence_frame(seed: int, length: int, index: int, frame_id: int | None = None) -> Frame:
    """Frame ``index`` (0-based over all clips) of the clips of ``length`` frames of ``seed``, rendered alone, as the
    source gives it; its id is ``index + 1`` unless ``frame_id`` is given."""
    return _rendered(seed, length, index, index + 1 if frame_id is None else frame_id)[0]


def _rendered(seed: int, length: int, index: int, frame_id: int) -> tuple[Frame, FrameLabels]:
    clip, k = divmod(index, length)
    rendered = render_clip_frame(seed, clip, length, k)
    meta = {"tags": dict(rendered.labels.tags), "video_id": video_id(clip), "frame_index": k}
    return Frame(frame_id, rendered.image, clip_file_name(clip, k), meta=meta), rendered.labels


def sequence_frame_records(seed: int, length: int, index: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The COCO-video image and annotation records of frame ``index`` (0-based over all clips), without pixels."""
    clip, k = divmod(index, length)
    return clip_frame_records(label_clip_frame(seed, clip, length, k), clip, k)


def clip_truth(seed: int, clip: int, length: int) -> dict[str, Any]:
    """The COCO-video ground truth of clip ``clip`` (0-based) alone: its frames' records, as the whole source's."""
    return video_ground_truth((sequence_frame_records(seed, length, clip * length + k) for k in range(length)),
                              seed, clip + 1, length)
