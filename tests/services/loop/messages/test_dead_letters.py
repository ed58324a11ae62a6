"""Dead letters keep the rejected bytes exactly, as text when they are UTF-8 and as base64 when not."""

from __future__ import annotations

import pytest

from services.loop.messages import DeadLetter, InvalidMessage, dead_letter, decode, encode, original_value


@pytest.mark.parametrize(("value", "encoding"), [
    (b'{"schema_version": 2}', "utf-8"), (b"\xff\xfe\x00binary", "base64"), (b"", "utf-8"), (None, "utf-8"),
])
def test_the_original_value_survives_a_round_trip(value: bytes | None, encoding: str) -> None:
    letter = dead_letter("frames: schema_version 2 is not supported", "feed", "t-frames", 3, 17, b"f-1", value, 5.0)
    assert letter.encoding == encoding
    again = decode(DeadLetter, encode(letter))
    assert again == letter and original_value(again) == value


def test_the_builder_fills_every_field_of_the_contract() -> None:
    letter = dead_letter("bad\nthing  here", "annotators", "manual-queue", 0, 9, None, b"{}", 12.5)
    assert letter.model_dump() == {
        "schema_version": 1, "reason": "bad thing here", "stage": "annotators", "source_topic": "manual-queue",
        "partition": 0, "offset": 9, "key": None, "value": "{}", "encoding": "utf-8", "time": 12.5,
    }


def test_an_odd_key_is_kept_readable() -> None:
    assert dead_letter("r", "s", "t", 0, 0, b"f-\xff", b"{}", 0.0).key == "f-\\xff"


def test_a_rejected_message_becomes_a_dead_letter_naming_its_field() -> None:
    raw = b'{"schema_version": 1, "frame_id": "f", "seq": "one"}'
    with pytest.raises(InvalidMessage) as caught:
        decode("frames", raw)
    letter = dead_letter(caught.value.reason, "test", "frames", 1, 2, b"f", raw, 3.0)
    assert letter.reason == "frames: seq: expected an integer, got string 'one'"
    assert original_value(letter) == raw
