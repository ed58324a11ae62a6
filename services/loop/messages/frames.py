"""Messages about frames and the machine's annotation of them: ``frames``, ``automation-results``, ``deliveries``."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from analysis.policy.automation import ALL
from services.loop.messages.fields import (
    Box,
    CategoryId,
    FrameId,
    Message,
    Milliseconds,
    Seq,
    Tags,
    Text,
    Time,
    Unit,
    Version,
    check_lengths,
)


class FrameMessage(Message):
    """A frame entering the pipeline: its id, stream sequence number and a reference to its pixels."""

    KIND = "frames"

    frame_id: FrameId
    seq: Seq
    image: Text
    stratum: str = ALL
    time: Time
    meta: dict[str, Any]


class AutomationMessage(Message):
    """The engine's annotation of one frame, or why it failed (``error``)."""

    KIND = "automation-results"

    frame_id: FrameId
    seq: Seq
    image: Text
    stratum: str = ALL
    time: Time
    model_version: Text
    confidence: Unit | None
    boxes: list[Box]
    category_ids: list[CategoryId]
    scores: list[Unit]
    tags: Tags
    tag_scores: dict[str, Unit]
    inference_ms: Milliseconds
    error: str | None

    @model_validator(mode="after")
    def _one_category_and_score_per_box(self) -> AutomationMessage:
        check_lengths(len(self.boxes), len(self.category_ids), len(self.scores))
        return self


class Delivery(Message):
    """A frame shipped on automation alone, with the machine annotation that ships."""

    KIND = "deliveries"

    frame_id: FrameId
    seq: Seq
    model_version: Text
    policy_version: Version
    inclusion_prob: Unit
    time: Time
    boxes: list[Box]
    category_ids: list[CategoryId]
    scores: list[Unit]
    tags: Tags

    @model_validator(mode="after")
    def _one_category_and_score_per_box(self) -> Delivery:
        check_lengths(len(self.boxes), len(self.category_ids), len(self.scores))
        return self
