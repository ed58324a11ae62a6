"""A chain on clips as they stream in: its steps prepared once, run on the frame messages of complete clips.

The streaming automation worker buffers a clip's ``frames`` messages (each names its clip in ``meta``:
``video_id``, ``frame_index``, ``clip_length``) and hands the complete clips here. The detect step reads the
pixels through :class:`RefSource`, a frame source over the messages' frame references. Each clip gives one
``automation-results`` message (every step's output; the model version names the whole chain) and one message
per step with that step's output alone (its model version: the chain up to it), for the step's own topic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from services.engine.chain.clip_messages import clip_id, clip_messages
from services.engine.chain.data import StepOutput
from services.engine.chain.run import build_steps, chain_version
from services.engine.chain.spec import PipelineSpec
from services.engine.chain.step import RunContext
from services.engine.frame_refs import resolve_frame
from services.engine.frames import Frame
from services.loop.messages import AutomationMessage, FrameMessage

PLACE = ("video_id", "frame_index", "clip_length")


@dataclass(frozen=True)
class ClipPlace:
    """Where a frame message's frame sits: its clip, its place in the clip, and how many frames the clip has."""

    video_id: int
    frame_index: int
    clip_length: int

    @property
    def clip_id(self) -> str:
        return clip_id(self.video_id)

    @classmethod
    def of(cls, frame: FrameMessage) -> ClipPlace:
        """The place ``frame.meta`` states; ValueError naming what is missing or wrong."""
        values: dict[str, Any] = {k: frame.meta.get(k) for k in PLACE}
        bad = [k for k, v in values.items() if not isinstance(v, int) or isinstance(v, bool)]
        if bad:
            raise ValueError(f"a clip's frame needs integer meta {', '.join(bad)} (video_id, frame_index, "
                             "clip_length)")
        place = cls(**values)
        if place.clip_length < 1 or not 0 <= place.frame_index < place.clip_length:
            raise ValueError(f"meta frame_index {place.frame_index} outside a clip of {place.clip_length} frames")
        return place


class RefSource:
    """A frame source over frame messages: each frame's pixels resolved from its reference as it is iterated (one
    that cannot be read is a failed frame, as every source gives it), with its place in its clip in ``meta``.
    Engine frame ids are the messages' ``seq``."""

    name = "frame messages"

    def __init__(self, frames: Sequence[FrameMessage]) -> None:
        self.frames = list(frames)

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[Frame]:
        return (self._frame(m) for m in self.frames)

    def ground_truth(self) -> dict[str, Any] | None:
        return None

    @staticmethod
    def _frame(m: FrameMessage) -> Frame:
        place = ClipPlace.of(m)
        meta = {"video_id": place.video_id, "frame_index": place.frame_index}
        try:
            frame = resolve_frame(m.image, m.seq)
        except Exception as exc:  # any unreadable reference fails this frame only
            return Frame(m.seq, None, m.image, error=f"{m.image}: {exc}", meta=meta)
        return replace(frame, meta={**frame.meta, **meta})


@dataclass(frozen=True)
class ClipResult:
    """A clip through the chain: its ``automation-results`` message and each step's own message, in chain order."""

    message: AutomationMessage
    steps: tuple[tuple[str, AutomationMessage], ...]


class ClipChain:
    """The steps of ``spec``, prepared (models loaded) once, run on complete clips."""

    def __init__(self, spec: PipelineSpec, *, device: str = "cpu", batch_size: int = 16) -> None:
        self.steps = build_steps(spec)
        self.context = RunContext(device=device, batch_size=batch_size)
        for step in self.steps:
            step.prepare(self.context)
        self.names = [s.name for s in self.steps]
        self.versions = [s.version() for s in self.steps]

    @property
    def model_version(self) -> str:
        return chain_version(self.names, self.versions)

    def outputs(self, frames: Sequence[FrameMessage]) -> list[tuple[str, StepOutput]]:
        """Every step's output on ``frames``, stamped with the chain's version up to the step."""
        context = replace(self.context, source=RefSource(frames))
        data: StepOutput | None = None
        outputs = []
        for i, step in enumerate(self.steps):
            data = step.run(data, context)
            version = chain_version(self.names[:i + 1], self.versions[:i + 1])
            data = StepOutput(data.frames, tuple(replace(r, model_version=version) for r in data.results),
                              data.interpolated)
            outputs.append((step.name, data))
        return outputs

    def run(self, clips: Sequence[Sequence[FrameMessage]], now: float) -> list[ClipResult]:
        """The results of complete ``clips`` (each its frames in clip order), one per clip in ``clips``' order; a
        clip's stratum is its first frame's, its time ``now``."""
        frames = [m for clip in clips for m in clip]
        by_seq = {m.seq: m for m in frames}
        stratum = {ClipPlace.of(c[0]).video_id: c[0].stratum for c in clips}
        messages = clip_messages(self.outputs(frames), image_of=lambda seq: by_seq[seq].image,
                                 stratum_of=lambda tags: "", time_of=lambda video: now)
        by_clip = {m.frame_id: _named(m, by_seq, stratum) for m in messages}
        return [_result(by_clip[ClipPlace.of(c[0]).clip_id]) for c in clips]


def _named(m: AutomationMessage, by_seq: dict[int, FrameMessage], stratum: dict[int, str]) -> AutomationMessage:
    """``m`` with its clip's frames named by their messages' frame ids (the engine numbers them by ``seq``) and the
    stratum of the clip's frames."""
    assert m.clip is not None
    frames = [f.model_copy(update={"frame_id": by_seq[int(f.frame_id)].frame_id}) for f in m.clip.frames]
    return m.model_copy(update={"clip": m.clip.model_copy(update={"frames": frames}),
                                "stratum": stratum[m.clip.video_id]})


def _result(m: AutomationMessage) -> ClipResult:
    assert m.clip is not None
    clip = m.clip
    return ClipResult(m, tuple(
        (s.name, m.model_copy(update={"model_version": s.model_version,
                                      "clip": clip.model_copy(update={"steps": [s]})}))
        for s in clip.steps))
