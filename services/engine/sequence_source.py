"""The frame source of synthetic driving clips: ``synthetic://driving-seq?seed=S&clips=C&length=L``.

Frames run clip by clip, ids ``1..C*L``; each frame's ``meta`` carries its
``tags`` (constant over a clip), ``video_id`` (1-based clip) and ``frame_index``
(0-based within the clip). The ground truth is COCO-video
(:mod:`services.datasets.driving.video_coco`) with a ``track_id`` per object.
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
        clip, k = divmod(index, self.length)
        rendered = render_clip_frame(self.seed, clip, self.length, k)
        self._labels[index] = rendered.labels
        meta = {"tags": dict(rendered.labels.tags), "video_id": video_id(clip), "frame_index": k}
        return Frame(index + 1, rendered.image, clip_file_name(clip, k), meta=meta)

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
