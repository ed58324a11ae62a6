"""Messages to bytes and back: orjson out, pydantic's JSON validator in, one-line reasons on failure."""

from __future__ import annotations

from typing import TypeVar, overload

import orjson
from pydantic import ValidationError

from services.loop.messages.dead_letters import DeadLetter
from services.loop.messages.decisions import AgreementStats, ComparisonMessage, PolicyMessage, RecommendationMessage
from services.loop.messages.exceptions import InvalidMessage
from services.loop.messages.fields import WIRE, Message
from services.loop.messages.frames import AutomationMessage, Delivery, FrameMessage
from services.loop.messages.manual import ManualAnnotation, ManualTask
from services.loop.messages.reasons import reason

M = TypeVar("M", bound=Message)

MODELS: tuple[type[Message], ...] = (
    FrameMessage, AutomationMessage, ManualTask, Delivery, ManualAnnotation, ComparisonMessage, AgreementStats,
    RecommendationMessage, PolicyMessage, DeadLetter,
)
KINDS: dict[str, type[Message]] = {model.KIND: model for model in MODELS}  # topic (without prefix) -> model


def encode(message: Message) -> bytes:
    """The message as compact UTF-8 JSON, with its wire field names (``copy``, not ``copy_``)."""
    return orjson.dumps(message.model_dump(by_alias=True))


@overload
def decode(kind: type[M], raw: bytes | None) -> M: ...


@overload
def decode(kind: str, raw: bytes | None) -> Message: ...


def decode(kind: type[Message] | str, raw: bytes | None) -> Message:
    """The message of ``kind`` (a model class or its topic name, e.g. ``"manual-annotations"``) in ``raw``.

    Raises :class:`InvalidMessage` whose reason names the kind and the first bad
    field, e.g. ``manual-annotations: objects[3].bbox: width is negative``.
    """
    model = kind if isinstance(kind, type) else model_of(kind)
    if raw is None:
        raise InvalidMessage(f"{model.KIND}: no value (a tombstone)")
    try:
        return model.model_validate_json(raw, strict=True, context={WIRE: True})
    except ValidationError as exc:
        raise InvalidMessage(f"{model.KIND}: {reason(exc)}") from None


def model_of(kind: str) -> type[Message]:
    """The model of the messages on topic ``kind`` (without prefix)."""
    try:
        return KINDS[kind]
    except KeyError:
        raise InvalidMessage(f"unknown message kind {kind!r} (expected {', '.join(KINDS)})") from None
