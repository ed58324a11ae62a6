"""What flows between the steps of a chain: every frame's result, with the clip and place of the frame."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from services.engine.frames import Frame
from services.engine.results import AutomationResult

BoolArray = npt.NDArray[np.bool_]
NO_VIDEO = -1  # the clip of frames whose source gives no video id: one clip for the whole source


@dataclass(frozen=True)
class FrameInfo:
    """Where a frame sits: its clip (``video_id``, :data:`NO_VIDEO` if the source has none) and its place
    in the clip (``frame_index``; the frame's position in the source when the source gives none)."""

    frame_id: int
    video_id: int
    frame_index: int

    @classmethod
    def of(cls, frame: Frame, position: int) -> FrameInfo:
        video, index = frame.meta.get("video_id"), frame.meta.get("frame_index")
        return cls(frame.frame_id, NO_VIDEO if video is None else int(video),
                   position if index is None else int(index))


@dataclass(frozen=True)
class StepOutput:
    """One step's output: a result per frame in source order, with each frame's place and, per box,
    whether the box was made by interpolation (an empty array: none)."""

    frames: tuple[FrameInfo, ...]
    results: tuple[AutomationResult, ...]
    interpolated: tuple[BoolArray, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.frames) != len(self.results):
            raise ValueError(f"{len(self.frames)} frames but {len(self.results)} results")
        if not self.interpolated:
            object.__setattr__(self, "interpolated", tuple(np.zeros(len(r.boxes), dtype=bool)
                                                         for r in self.results))

    def __len__(self) -> int:
        return len(self.results)

    @property
    def model_version(self) -> str:
        return self.results[0].model_version if self.results else ""


def clips(frames: Sequence[FrameInfo]) -> Iterator[list[int]]:
    """Positions of the frames of each clip, clips by video id, each ordered by frame index (ties: source
    order)."""
    by_video: dict[int, list[int]] = {}
    for i, info in enumerate(frames):
        by_video.setdefault(info.video_id, []).append(i)
    for video in sorted(by_video):
        yield sorted(by_video[video], key=lambda i: (frames[i].frame_index, i))


def recording(frames: Iterable[Frame], into: list[FrameInfo]) -> Iterator[Frame]:
    """``frames`` unchanged, appending each one's :class:`FrameInfo` to ``into`` as it passes."""
    for position, frame in enumerate(frames):
        into.append(FrameInfo.of(frame, position))
        yield frame


def counts(output: StepOutput) -> dict[str, Any]:
    """Counts for reports: frames, failed frames, boxes, tracked boxes, interpolated boxes, tracks."""
    tracks = {int(t) for r in output.results for t in r.track_ids if t >= 0}
    return {
        "frames": len(output), "failed": sum(not r.ok for r in output.results),
        "boxes": sum(len(r.boxes) for r in output.results),
        "tracked_boxes": sum(int((r.track_ids >= 0).sum()) for r in output.results),
        "interpolated_boxes": sum(int(m.sum()) for m in output.interpolated), "tracks": len(tracks),
    }
