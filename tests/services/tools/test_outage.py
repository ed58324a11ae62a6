"""Waiting out a broker outage: records wait or are queued again (never dropped, never sent twice), and the tool
says once that the broker is away and once that it is back. The real broker's restart: tests/integration/
test_broker_restart.py."""

from __future__ import annotations

import pytest

from services.tools.exceptions import BrokerAway, DeliveryFailed
from services.tools.outage import MAX_PAUSE_S, Outage, PatientSink


class Acked:
    def failure(self) -> DeliveryFailed | None:
        return None


class FlakyProducer:
    """Refuses to queue the first ``refusals`` sends and leaves the first ``timeouts`` flushes unacknowledged."""

    def __init__(self, refusals: int = 0, timeouts: int = 0, failure: DeliveryFailed | None = None) -> None:
        self.refusals, self.timeouts, self.failure = refusals, timeouts, failure
        self.queued: list[bytes] = []
        self.flush_timeouts: list[float | None] = []

    def send(self, topic: str, key: bytes | None, value: bytes) -> Acked:
        if self.refusals:
            self.refusals -= 1
            raise BrokerAway("cannot queue a record (KafkaTimeoutError)")
        self.queued.append(value)
        return Acked()

    def flush(self, timeout_s: float | None = None) -> None:
        self.flush_timeouts.append(timeout_s)
        if self.timeouts:
            self.timeouts -= 1
            raise BrokerAway(f"records are not acknowledged after {timeout_s} s")
        if self.failure is not None:
            raise self.failure

    def close(self, timeout_s: float | None = None) -> None:
        pass


def _patient(producer: FlakyProducer) -> tuple[PatientSink, list[str], list[float]]:
    said: list[str] = []
    pauses: list[float] = []
    clock = iter(float(t) for t in range(0, 1000, 3))
    sink = PatientSink(producer, Outage("feed", said.append, clock=lambda: next(clock)), wait_s=2.0,
                       sleep=pauses.append)
    return sink, said, pauses


def test_a_record_the_producer_cannot_queue_is_queued_again_once_with_backoff() -> None:
    producer = FlakyProducer(refusals=6)
    sink, said, pauses = _patient(producer)
    sink.send("t-frames", b"k", b"v1")
    assert producer.queued == [b"v1"]  # queued once: a refused attempt sent nothing
    assert pauses == [0.5, 1.0, 2.0, 4.0, MAX_PAUSE_S, MAX_PAUSE_S]
    assert said == ["feed: the broker does not answer (BrokerAway: cannot queue a record (KafkaTimeoutError)); "
                    "waiting for it, nothing is dropped"]


def test_a_flush_waits_until_acknowledged_and_says_away_then_back_once_each() -> None:
    producer = FlakyProducer(timeouts=3)
    sink, said, _ = _patient(producer)
    sink.send("t-frames", b"k", b"v1")
    sink.flush()
    assert producer.flush_timeouts == [2.0] * 4 and producer.queued == [b"v1"]  # waited on, never sent again
    assert said == ["feed: the broker does not answer (BrokerAway: records are not acknowledged after 2.0 s); "
                    "waiting for it, nothing is dropped",
                    "feed: the broker answers again (3.0 s after it stopped answering); carrying on"]


def test_an_empty_flush_does_not_say_the_broker_is_back() -> None:
    producer = FlakyProducer(refusals=1)
    sink, said, _ = _patient(producer)
    sink.flush()
    assert said == []
    sink.send("t-frames", b"k", b"v1")  # away while queueing ...
    sink.flush()  # ... and this flush's acknowledgement says it is back
    assert len(said) == 2 and said[1].startswith("feed: the broker answers again")


def test_records_the_producer_gave_up_on_are_an_error() -> None:
    producer = FlakyProducer(failure=DeliveryFailed("1 message(s) were not acknowledged by the broker"))
    sink, _, _ = _patient(producer)
    sink.send("t-frames", b"k", b"v1")
    with pytest.raises(DeliveryFailed, match="not acknowledged"):
        sink.flush()
