"""The messages of the streaming pipeline (docs/streaming.md) as pydantic models, with their codec.

``encode(message) -> bytes`` and ``decode(kind, raw) -> message``; an invalid
message raises :class:`InvalidMessage` whose reason names the field, and
``dead_letter(...)`` builds what goes to ``dead-letters`` instead.
"""

from services.loop.messages.clips import (
    ClipFrame,
    ClipTracking,
    MachineClip,
    StepClip,
    StepFrame,
    StepVerdict,
    TaskClip,
)
from services.loop.messages.codec import KINDS, MODELS, decode, encode, model_of
from services.loop.messages.dead_letters import DeadLetter, dead_letter, original_value
from services.loop.messages.decisions import (
    AgreementStats,
    ComparisonMessage,
    HumanFloor,
    PolicyMessage,
    RecommendationMessage,
)
from services.loop.messages.exceptions import InvalidMessage
from services.loop.messages.fields import Message
from services.loop.messages.frames import AutomationMessage, Delivery, FrameMessage
from services.loop.messages.manual import AnnotatedFrame, AnnotatedObject, ManualAnnotation, ManualTask, task_id

__all__ = [
    "KINDS",
    "MODELS",
    "AgreementStats",
    "AnnotatedFrame",
    "AnnotatedObject",
    "AutomationMessage",
    "ClipFrame",
    "ClipTracking",
    "ComparisonMessage",
    "DeadLetter",
    "Delivery",
    "FrameMessage",
    "HumanFloor",
    "InvalidMessage",
    "MachineClip",
    "ManualAnnotation",
    "ManualTask",
    "Message",
    "PolicyMessage",
    "RecommendationMessage",
    "StepClip",
    "StepFrame",
    "StepVerdict",
    "TaskClip",
    "dead_letter",
    "decode",
    "encode",
    "model_of",
    "original_value",
    "task_id",
]
