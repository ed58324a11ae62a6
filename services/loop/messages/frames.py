"""Messages about frames and the machine's annotation of them: ``frames``, ``automation-results``, ``deliveries``."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from analysis.policy.automation import ALL
from services.loop.messages.clips import MachineClip, StepClip, clip_field
from services.loop.messages.fields import (
    Box,
    CategoryId,
    FrameId,
    Message,
    Milliseconds,
    SchemaVersion2,
    Seq,
    Tags,
    Text,
    Time,
    Unit,
    Version,
    check_lengths,
    version_field,
)
from services.loop.messages.geometry import Shape


class FrameMessage(Message):
    """A frame entering the pipeline: its id, stream sequence number and a reference to its pixels."""

    KIND = "frames"

    frame_id: FrameId
    seq: Seq
    image: Text
    stratum: str = ALL
    time: Time
    meta: dict[str, Any]


class MachineObjects(Message):
    """The machine's objects, column-wise: a tagged geometry, a category id and a score each.

    Version 2 lists ``geometries``; a version 1 message's ``boxes`` are read as
    ``box2d`` geometries, and the message is held (and re-encoded) as version 2.
    """

    schema_version: SchemaVersion2 = version_field()  # type: ignore[assignment]
    geometries: list[Shape] = Field(default_factory=list)
    boxes: list[Box] | None = Field(default=None, exclude=True)  # version 1, read only
    category_ids: list[CategoryId]
    scores: list[Unit]

    @model_validator(mode="after")
    def _one_geometry_category_and_score_each(self) -> MachineObjects:
        given = "geometries" in self.model_fields_set
        if not given and self.boxes is None:
            raise ValueError("missing required field 'geometries'")
        what = "geometries" if given else "boxes"
        if not given:
            self.__dict__["geometries"] = [Shape.box(b) for b in self.boxes or ()]
            self.__pydantic_fields_set__.add("geometries")  # read: given as far as a revalidation can tell
        self.__dict__.update(boxes=None, schema_version=2)
        check_lengths(len(self.geometries), len(self.category_ids), len(self.scores), what)
        return self


class AutomationMessage(MachineObjects):
    """The engine's annotation of one frame, or why it failed (``error``); of a whole clip when ``clip`` is given
    (then ``frame_id`` names the clip, the frame-level objects are empty and ``clip.steps`` has every step's
    output: :mod:`services.loop.messages.clips`)."""

    KIND = "automation-results"

    frame_id: FrameId
    seq: Seq
    image: Text
    stratum: str = ALL
    time: Time
    model_version: Text
    confidence: Unit | None
    tags: Tags
    tag_scores: dict[str, Unit]
    inference_ms: Milliseconds
    error: str | None
    clip: MachineClip | None = clip_field()


class Delivery(MachineObjects):
    """A frame shipped on automation alone, with the machine annotation that ships (a clip's: ``clip``, the chain's
    last step)."""

    KIND = "deliveries"

    frame_id: FrameId
    seq: Seq
    model_version: Text
    policy_version: Version
    inclusion_prob: Unit
    time: Time
    tags: Tags
    clip: StepClip | None = clip_field()
