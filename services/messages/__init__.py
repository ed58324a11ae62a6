"""The messages of the streaming pipeline (docs/streaming.md) as pydantic models, with their codec.

``encode(message) -> bytes`` and ``decode(kind, raw) -> message``; an invalid
message raises :class:`InvalidMessage` whose reason names the field, and
``dead_letter(...)`` builds what goes to ``dead-letters`` instead.
"""

from services.messages.codec import KINDS, MODELS, decode, encode, model_of
from services.messages.dead_letters import DeadLetter, dead_letter, original_value
from services.messages.decisions import (
    AgreementStats,
    ComparisonMessage,
    HumanFloor,
    PolicyMessage,
    RecommendationMessage,
)
from services.messages.exceptions import InvalidMessage
from services.messages.fields import Message
from services.messages.frames import AutomationMessage, Delivery, FrameMessage
from services.messages.manual import AnnotatedObject, ManualAnnotation, ManualTask, task_id

__all__ = [
    "KINDS",
    "MODELS",
    "AgreementStats",
    "AnnotatedObject",
    "AutomationMessage",
    "ComparisonMessage",
    "DeadLetter",
    "Delivery",
    "FrameMessage",
    "HumanFloor",
    "InvalidMessage",
    "ManualAnnotation",
    "ManualTask",
    "Message",
    "PolicyMessage",
    "RecommendationMessage",
    "dead_letter",
    "decode",
    "encode",
    "model_of",
    "original_value",
    "task_id",
]
