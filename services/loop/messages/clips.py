"""A clip as one unit of the shadow loop: the parts of the messages that carry a whole clip.

A clip (a short video, ``video_id``) is routed, annotated, compared and counted as one unit, exactly as a frame
is: its ``automation-results`` message carries every step's output of the chain on every frame of the clip
(``clip.steps``, the last step is what ships), its manual task lists the clip's frames (``clip.frames``) and a
person's annotation has their boxes frame by frame with their own track ids (``ManualAnnotation.clip_frames``).
The comparison of a clip judges its tracks under the clip spec and attributes its errors to the steps
(``ComparisonMessage.tracking`` and ``.steps``). Every clip field is left out of a frame's message on the wire,
so frame messages are unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from services.loop.messages.fields import (
    INT64_MAX,
    INT64_MIN,
    CategoryId,
    Count,
    Finite,
    FrameId,
    Message,
    Offset,
    Text,
    Unit,
    check_lengths,
)
from services.loop.messages.geometry import Shape

TrackId = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]  # negative: a box without a track
NO_TRACK = -1


def absent(value: Any) -> bool:
    """A clip field's value that is left out on the wire (a frame's message)."""
    return value is None


def clip_field() -> Any:
    """An optional clip field: None (and absent on the wire) on a frame's message."""
    return Field(default=None, exclude_if=absent)


class _Part(BaseModel):
    model_config = Message.model_config


class ClipFrame(_Part):
    """One frame of a clip: its id, where its pixels are, and its place in the clip (0-based)."""

    frame_id: FrameId
    image: Text
    frame_index: Offset


class StepFrame(_Part):
    """One step's objects on one frame of the clip, column-wise; ``track_ids`` -1 where a box has no track."""

    frame_index: Offset
    geometries: list[Shape] = Field(default_factory=list)
    category_ids: list[CategoryId] = Field(default_factory=list)
    scores: list[Unit] = Field(default_factory=list)
    track_ids: list[TrackId] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_of_each_per_object(self) -> StepFrame:
        check_lengths(len(self.geometries), len(self.category_ids), len(self.scores))
        if len(self.track_ids) != len(self.geometries):
            raise ValueError(f"track_ids: {len(self.track_ids)} for {len(self.geometries)} geometries")
        return self


class StepClip(_Part):
    """One step's output on the whole clip; ``has_ids``: the step gives track ids (a detector does not)."""

    name: Text
    model_version: Text
    has_ids: bool
    frames: list[StepFrame]


class MachineClip(_Part):
    """The chain's output on a clip: its frames in order and every step's output (the last step's ships)."""

    video_id: Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
    frames: list[ClipFrame] = Field(min_length=1)
    steps: list[StepClip] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps_on_the_clips_frames(self) -> MachineClip:
        indices = [f.frame_index for f in self.frames]
        if indices != list(range(len(indices))):
            raise ValueError(f"frames: frame_index must run 0..{len(indices) - 1} in order")
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"steps: names must be unique, got {names}")
        for s in self.steps:
            bad = [f.frame_index for f in s.frames if f.frame_index >= len(indices)]
            if bad:
                raise ValueError(f"steps.{s.name}: frame_index {bad[0]} outside the clip's {len(indices)} frames")
        return self

    @property
    def final(self) -> StepClip:
        return self.steps[-1]


class TaskClip(_Part):
    """What a clip task shows a person: the clip and its frames, in order (never a machine box)."""

    video_id: Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
    frames: list[ClipFrame] = Field(min_length=1)


class ClipTracking(_Part):
    """A clip's tracking figures against the person's annotation (the last step, or copy 2 against copy 1)."""

    frames: Count
    frames_accepted: Count | None
    mota: Finite | None
    motp: Finite | None
    idf1: Unit | None
    hota: Unit | None
    id_switches: Count
    fragmentations: Count
    reasons: list[str] = Field(default_factory=list)  # why the clip was rejected, one per broken rule


class StepVerdict(_Part):
    """One step of the chain on a compared clip: would the clip pass at this step; its own agreement with the
    person as counts (so clips add up; misses = objects - matched, false positives = predictions - matched); and
    how many of the final output's errors it introduced (``attributed_*``: they add up over the steps to the
    final errors, :mod:`analysis.tracking.attribution`)."""

    name: Text
    accepted: bool
    has_ids: bool
    objects: Count
    predictions: Count
    matched: Count
    switches: Count
    fragmentations: Count
    idtp: Count
    attributed_misses: Count
    attributed_false_positives: Count
    attributed_switches: Count

    @property
    def misses(self) -> int:
        return self.objects - self.matched

    @property
    def false_positives(self) -> int:
        return self.predictions - self.matched

    @property
    def attributed(self) -> int:
        return self.attributed_misses + self.attributed_false_positives + self.attributed_switches
