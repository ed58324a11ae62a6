"""Hand-made frames, detections and step outputs for the chain tests, and a detect kind that needs no model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.engine.chain.data import FrameInfo, StepOutput, recording
from services.engine.chain.registry import register, unregister
from services.engine.chain.step import ChainStep, RunContext
from services.engine.frames import Frame
from services.engine.results import AutomationResult

Box = tuple[float, float, float, float]


def result(frame_id: int, boxes: Sequence[Box], cats: Sequence[int] | None = None,
           scores: Sequence[float] | None = None, tracks: Sequence[int] | None = None) -> AutomationResult:
    n = len(boxes)
    return AutomationResult(
        frame_id, "hand", boxes=np.array(boxes, dtype=np.float64).reshape(n, 4),
        category_ids=np.array(cats if cats is not None else [1] * n, dtype=np.int64),
        scores=np.array(scores if scores is not None else [0.9] * n, dtype=np.float64),
        track_ids=np.array(tracks if tracks is not None else [], dtype=np.int64), confidence=0.5)


def output(frames: Sequence[Sequence[Box]], video: int = 1, **columns: Sequence[Sequence[Any]]) -> StepOutput:
    """One clip of frames (ids 1.., indices 0..) with these boxes; ``columns``: per-frame cats/scores/tracks."""
    infos = tuple(FrameInfo(i + 1, video, i) for i in range(len(frames)))
    results = tuple(result(i + 1, boxes, **{k: v[i] for k, v in columns.items()}) for i, boxes in enumerate(frames))
    return StepOutput(infos, results)


def moving(start: Box, velocity: tuple[float, float], n: int) -> list[Box]:
    x, y, w, h = start
    return [(x + velocity[0] * k, y + velocity[1] * k, w, h) for k in range(n)]


class MetaFrames:
    """A frame source whose frames carry their detections in ``meta["boxes"]`` (and a clip and index)."""

    def __init__(self, clips: dict[int, list[list[Box]]], name: str = "hand://frames") -> None:
        self.name = name
        self._frames: list[Frame] = []
        for video, frames in clips.items():
            for index, boxes in enumerate(frames):
                meta = {"video_id": video, "frame_index": index, "boxes": boxes}
                self._frames.append(Frame(len(self._frames) + 1, np.zeros((4, 4, 3), np.uint8), meta=meta))

    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self) -> Iterator[Frame]:
        return iter(self._frames)

    def ground_truth(self) -> None:
        return None


@dataclass(frozen=True)
class MetaParams:
    score: float = 0.8


class MetaDetect(ChainStep):
    """A detector that reads each frame's ``meta["boxes"]`` (class 1 for even boxes, 2 for odd ones)."""

    Params = MetaParams
    takes_model = False
    reads_frames = True
    runs = 0

    def version(self) -> str:
        return "meta-boxes-1"

    def run(self, data: StepOutput | None, context: RunContext) -> StepOutput:
        MetaDetect.runs += 1
        assert context.source is not None
        infos: list[FrameInfo] = []
        results = [result(f.frame_id, f.meta["boxes"], cats=[1 + i % 2 for i in range(len(f.meta["boxes"]))],
                          scores=[self.spec.params.score] * len(f.meta["boxes"]))
                   for f in recording(context.source, infos)]
        return StepOutput(tuple(infos), tuple(results))


def register_meta_detect() -> None:
    register("meta-detect")(MetaDetect)


def unregister_meta_detect() -> None:
    unregister("meta-detect")


def two_clips(n: int = 12) -> MetaFrames:
    """Clip 1: two boxes crossing and a third one with a gap; clip 2: one box moving down."""
    a, b = moving((10, 50, 30, 30), (8, 0), n), moving((250, 55, 30, 30), (-8, 0), n)
    c = moving((20, 150, 20, 20), (3, 1), n)
    clip1 = [[a[k], b[k]] + ([c[k]] if k not in (5, 6) else []) for k in range(n)]
    clip2 = [[(100.0, 10.0 + 4 * k, 25.0, 40.0)] for k in range(n)]
    return MetaFrames({1: clip1, 2: clip2})
