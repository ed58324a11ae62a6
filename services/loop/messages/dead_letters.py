"""Dead letters: a rejected message with why, where it came from and its original bytes.

The original value is kept as UTF-8 text when it is valid UTF-8, else base64
(``encoding: base64``), so a dead letter is always valid JSON and the original
bytes can be recovered exactly with :func:`original_value`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from pydantic import model_validator

from services.loop.messages.fields import Message, Offset, Text, Time


class DeadLetter(Message):
    """A message an agent or tool (``stage``) rejected, with the reason and its place in the source topic."""

    KIND = "dead-letters"

    reason: Text
    stage: Text
    source_topic: Text
    partition: Offset | None
    offset: Offset | None
    key: str | None
    value: str | None
    encoding: Literal["utf-8", "base64"] = "utf-8"
    time: Time

    @model_validator(mode="after")
    def _base64_value_decodes(self) -> DeadLetter:
        if self.encoding == "base64" and self.value is not None:
            try:
                base64.b64decode(self.value, validate=True)
            except binascii.Error:
                raise ValueError("value: not valid base64") from None
        return self


def dead_letter(
    reason: str, stage: str, topic: str, partition: int | None, offset: int | None,
    key: bytes | None, value: bytes | None, time: float,
) -> DeadLetter:
    """The dead letter of a rejected record (``key`` is decoded as UTF-8, odd bytes escaped)."""
    text, encoding = _text_of(value)
    return DeadLetter(
        schema_version=1, reason=_one_line(reason), stage=stage, source_topic=topic, partition=partition,
        offset=offset, key=None if key is None else key.decode("utf-8", "backslashreplace"),
        value=text, encoding=encoding, time=time,
    )


def original_value(letter: DeadLetter) -> bytes | None:
    """The rejected record's value bytes, exactly as they were."""
    if letter.value is None:
        return None
    if letter.encoding == "base64":
        return base64.b64decode(letter.value, validate=True)
    return letter.value.encode()


def _text_of(value: bytes | None) -> tuple[str | None, Literal["utf-8", "base64"]]:
    if value is None:
        return None, "utf-8"
    try:
        return value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii"), "base64"


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "rejected"
