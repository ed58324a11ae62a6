"""The stream boundary's error policy: a rejected record becomes a counted dead letter; a failing step never stops."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.loop.messages import DeadLetter, decode, original_value
from streams.errors import DEAD_LETTERS, DeadLetters


@dataclass
class FakeTopic:
    sent: list[tuple[bytes | None, bytes]] = field(default_factory=list)

    async def send(self, *, key: bytes | None, value: bytes) -> None:
        self.sent.append((key, value))


def event(value: bytes | None, *, key: bytes | None = b"f-1", topic: str = "t-frames", partition: int = 2,
          offset: int = 41) -> Any:
    return SimpleNamespace(message=SimpleNamespace(topic=topic, partition=partition, offset=offset, key=key,
                                                   value=value))


def metric(stage: str, reason: str) -> float:
    return REGISTRY.get_sample_value("shadowqa_dead_letters_total", {"stage": stage, "reason": reason}) or 0.0


def test_a_rejected_record_becomes_a_dead_letter_with_its_origin() -> None:
    topic = FakeTopic()
    dead = DeadLetters(topic)
    raw = b'{"schema_version": 1, "frame_id": "f-1", "seq": "one"}'
    before = metric("test-reject", "frames")
    asyncio.run(dead.reject(event(raw), "frames: seq: expected an integer, got string 'one'", "test-reject"))

    assert len(topic.sent) == 1
    key, value = topic.sent[0]
    assert key == b"f-1"
    letter = decode(DeadLetter, value)
    assert (letter.reason, letter.stage, letter.source_topic, letter.partition, letter.offset, letter.key) == (
        "frames: seq: expected an integer, got string 'one'", "test-reject", "t-frames", 2, 41, "f-1")
    assert (letter.value, letter.encoding) == (raw.decode(), "utf-8")
    assert original_value(letter) == raw
    assert letter.time > 1.7e9
    assert dead.counts == {("test-reject", "frames"): 1}
    assert dead.total == 1
    assert metric("test-reject", "frames") == before + 1
    assert DEAD_LETTERS.labels(stage="test-reject", reason="frames")._value.get() == before + 1


@pytest.mark.parametrize(("value", "key", "encoding"), [
    (b"\xff\xfe\x00binary", b"f-\xff", "base64"), (None, None, "utf-8"), (b"", b"", "utf-8"),
])
def test_odd_records_are_kept_exactly(value: bytes | None, key: bytes | None, encoding: str) -> None:
    topic = FakeTopic()
    asyncio.run(DeadLetters(topic).reject(event(value, key=key, partition=0, offset=0), "odd", "test-odd"))
    sent_key, raw = topic.sent[0]
    letter = decode(DeadLetter, raw)
    assert sent_key == key
    assert letter.encoding == encoding and original_value(letter) == value
    assert (letter.partition, letter.offset) == (0, 0)


@pytest.mark.parametrize(("reason", "label"), [
    ("frames: seq: expected an integer", "frames"),
    ("processing failed: ValueError: boom: again", "processing failed"),
    ("no colon here", "no colon here"),
    (" padded : x", "padded"),
    ("x" * 80 + ": tail", "x" * 60),
])
def test_the_reason_label_is_the_reason_up_to_its_first_colon(reason: str, label: str) -> None:
    dead = DeadLetters(FakeTopic())
    before = metric("test-label", label)
    asyncio.run(dead.reject(event(b"{}"), reason, "test-label"))
    asyncio.run(dead.reject(event(b"{}", offset=42), reason, "test-label"))
    assert dead.counts == {("test-label", label): 2}
    assert metric("test-label", label) == before + 2
    assert decode(DeadLetter, dead.topic.sent[1][1]).reason == " ".join(reason.split())  # the full reason is kept


def test_guard_returns_the_steps_value_and_sends_nothing() -> None:
    topic = FakeTopic()
    dead = DeadLetters(topic)

    async def step() -> list[int]:
        return [1, 2, 3]

    assert asyncio.run(dead.guard([event(b"{}")], "test-guard-ok", step)) == [1, 2, 3]
    assert topic.sent == [] and dead.total == 0


def test_guard_dead_letters_every_event_when_the_step_raises() -> None:
    topic = FakeTopic()
    dead = DeadLetters(topic)
    events = [event(b'{"a": 1}', offset=7), event(b'{"b": 2}', key=b"f-2", offset=8), event(None, offset=9)]

    async def step() -> int:
        raise ValueError("bad frame")

    before = metric("test-guard", "processing failed")
    assert asyncio.run(dead.guard(events, "test-guard", step)) is None

    letters = [decode(DeadLetter, value) for _, value in topic.sent]
    assert [key for key, _ in topic.sent] == [b"f-1", b"f-2", b"f-1"]
    assert [(d.offset, original_value(d)) for d in letters] == [(7, b'{"a": 1}'), (8, b'{"b": 2}'), (9, None)]
    assert {d.reason for d in letters} == {"processing failed: ValueError: bad frame"}
    assert {d.stage for d in letters} == {"test-guard"}
    assert dead.counts == {("test-guard", "processing failed"): 3}
    assert metric("test-guard", "processing failed") == before + 3


def test_guard_does_not_swallow_cancellation() -> None:
    dead = DeadLetters(FakeTopic())

    async def step() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(dead.guard([event(b"{}")], "test-guard-cancel", step))
    assert dead.total == 0
