"""The outbox never stalls on one row: a row that cannot be encoded or sent goes to dead-letters and the rest flow
on; a broker that does not answer dead-letters nothing. A sink in memory here; tests/integration/test_outbox.py
runs the same against the real broker."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine

from services.api.outbox import Outbox, dead_letter_topic
from services.infra.topic_names import TopicNames
from services.loop.messages import DeadLetter, ManualAnnotation, decode
from services.tools.exceptions import DeliveryFailed, RecordRefused, RecordTooLarge
from tests.services.tools.memory import MemorySink
from tests.utils.outbox import marks, poison, submit

TOPICS = TopicNames("t-")
MAX_BYTES = 10_000


@dataclass(frozen=True)
class Outcome:
    problem: DeliveryFailed | None

    def failure(self) -> DeliveryFailed | None:
        return self.problem


@dataclass
class Broker:
    """A sink with a broker's answers: refuses records over MAX_BYTES before sending (kafka-python's own check),
    refuses the (topic, key) pairs in ``invalid`` after sending (the broker's answer), and leaves unacknowledged
    what goes to a topic in ``away`` (a broker that does not answer)."""

    sent: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    invalid: set[tuple[str, bytes | None]] = field(default_factory=set)
    away: set[str] = field(default_factory=set)

    def send(self, topic: str, key: bytes | None, value: bytes) -> Outcome:
        if len(value) > MAX_BYTES:
            raise RecordTooLarge(f"cannot send to {topic} (MessageSizeTooLargeError: {len(value)} bytes)")
        if topic in self.away:
            return Outcome(DeliveryFailed("the broker did not acknowledge (KafkaTimeoutError: expired)"))
        if (topic, key) in self.invalid:
            return Outcome(RecordRefused("the broker did not acknowledge (InvalidRecordError)"))
        self.sent.append((topic, key, value))
        return Outcome(None)

    def flush(self) -> None:
        pass

    def on(self, topic: str) -> list[bytes]:
        return [v for t, _, v in self.sent if t == topic]


def _outbox(engine: Engine, sink: Broker | MemorySink) -> Outbox:
    return Outbox(engine, sink, TOPICS.manual_annotations)


def _count(reason: str) -> float:
    return REGISTRY.get_sample_value("shadowqa_outbox_dead_letters_total", {"reason": reason}) or 0.0


@pytest.mark.parametrize(("kind", "reason"), [
    ("int64", "encode"), ("surrogate", "encode"), ("too_large", "too_large"), ("refused", "send"),
])
def test_a_row_that_cannot_be_published_is_dead_lettered_and_the_rest_flow_on(engine: Engine, kind: str,
                                                                              reason: str) -> None:
    sink = Broker()
    if kind == "refused":
        bad = submit(engine, [0])
        sink.invalid.add((TOPICS.manual_annotations, b"driving-s0-000000"))
    else:
        bad = submit(engine, [0], **poison(kind, size=MAX_BYTES * 2))
    good = submit(engine, range(1, 101))
    before = _count(reason)

    assert _outbox(engine, sink).publish() == 101
    assert [decode(ManualAnnotation, v).task_id for v in sink.on(TOPICS.manual_annotations)] == good
    (letter,) = [decode(DeadLetter, v) for v in sink.on(TOPICS.dead_letters)]
    assert letter.reason.startswith(f"{reason}: task {bad[0]}: ")
    assert (letter.stage, letter.source_topic, letter.key) == ("outbox", TOPICS.manual_annotations,
                                                               "driving-s0-000000")
    assert (letter.partition, letter.offset, letter.value) == (None, None, None)
    stored = marks(engine)
    assert stored[bad[0]] == (False, True, letter.reason)
    assert all(stored[t] == (True, False, None) for t in good)
    assert _count(reason) == before + 1
    assert _outbox(engine, sink).publish() == 0  # marked: never retried


def test_unencodable_values_are_named_in_the_reason(engine: Engine) -> None:
    submit(engine, [0], **poison("int64"))
    submit(engine, [1], **poison("surrogate"))
    sink = Broker()
    assert _outbox(engine, sink).publish() == 2
    reasons = [decode(DeadLetter, v).reason for v in sink.on(TOPICS.dead_letters)]
    # the message's validation names the field; where it lets a value through, the JSON encoder says why (orjson:
    # "Integer exceeds 64-bit range", "str is not valid UTF-8: surrogates not allowed")
    assert "objects[0].attributes.count: " in reasons[0] or ": Integer exceeds 64-bit range" in reasons[0]
    assert "tags.weather: " in reasons[1] or ": str is not valid UTF-8: surrogates not allowed" in reasons[1]
    assert all("\udfff" not in r for r in reasons)  # the reason itself is always encodable


def test_a_broker_that_does_not_answer_dead_letters_nothing(engine: Engine) -> None:
    submit(engine, [0], **poison("too_large", size=MAX_BYTES * 2))
    good = submit(engine, range(1, 11))
    sink = Broker(away={TOPICS.manual_annotations})
    with pytest.raises(DeliveryFailed, match="KafkaTimeoutError"):
        _outbox(engine, sink).publish()
    assert not sink.on(TOPICS.dead_letters)
    assert all(m == (False, False, None) for m in marks(engine).values())  # nothing marked: all retried

    sink.away.clear()  # the broker is back
    assert _outbox(engine, sink).publish() == 11
    assert [decode(ManualAnnotation, v).task_id for v in sink.on(TOPICS.manual_annotations)] == good


def test_a_dead_letter_not_acknowledged_leaves_its_row_pending_and_the_rest_published(engine: Engine) -> None:
    (bad,) = submit(engine, [0], **poison("int64"))
    good = submit(engine, range(1, 6))
    sink = Broker(away={TOPICS.dead_letters})
    with pytest.raises(DeliveryFailed):
        _outbox(engine, sink).publish()
    stored = marks(engine)
    assert stored[bad] == (False, False, None)
    assert all(stored[t] == (True, False, None) for t in good)

    sink.away.clear()
    assert _outbox(engine, sink).publish() == 1
    assert marks(engine)[bad][:2] == (False, True)


def test_a_sink_without_deliveries_is_trusted_through_its_flush_only(engine: Engine) -> None:
    """MemorySink reports no per-record outcome: a failed flush is an outage (nothing marked), never a poison."""

    @dataclass
    class Refusing(MemorySink):
        def flush(self) -> None:
            raise RecordRefused("one of them was refused, which one is not said")

    submit(engine, range(3))
    with pytest.raises(RecordRefused):
        _outbox(engine, Refusing()).publish()
    assert all(m == (False, False, None) for m in marks(engine).values())
    sink = MemorySink()
    assert _outbox(engine, sink).publish() == 3 and len(sink.on(TOPICS.manual_annotations)) == 3


def test_the_dead_letter_topic_shares_the_prefix_of_the_annotations_topic() -> None:
    assert dead_letter_topic("p1-manual-annotations") == "p1-dead-letters"
    assert dead_letter_topic("manual-annotations") == "dead-letters"
    with pytest.raises(ValueError, match="name it"):
        dead_letter_topic("annotations")
