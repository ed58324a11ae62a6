"""Riding out a broker outage: a long-running tool waits for the broker, says so, and carries on.

kafka-python's producer retries what it has queued, idempotently (a batch the
broker wrote before it went away is not written again), so a tool loses and
duplicates nothing as long as its producer does not give up: the tools'
producers retry for DELIVERY_TIMEOUT_S and reconnect at least once a second.
:class:`PatientSink` waits for the broker's acknowledgements however long it is
away, sends again (with backoff) a record the producer could not even queue (it
was never sent, so nothing is duplicated), and says once when the broker stopped
answering and once when it answers again.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol

from services.tools.exceptions import BrokerAway
from services.tools.kafka import Delivery, KafkaSink

DELIVERY_TIMEOUT_S = 7 * 24 * 3600.0  # longer than any broker restart: the producer keeps every record until then
WAIT_S = 5.0  # a flush not acknowledged within this says the broker is away (a busy broker answers well within it)
FIRST_PAUSE_S, MAX_PAUSE_S = 0.5, 5.0  # between attempts to queue a record the producer could not queue


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Outage:
    """Says once when the broker stops answering a tool and once when it answers again, with how long it did not."""

    def __init__(self, tool: str, say: Callable[[str], None] = _stderr,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.tool, self._say, self._clock = tool, say, clock
        self._since: float | None = None
        self._lock = threading.Lock()

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def away(self, exc: BaseException) -> None:
        with self._lock:
            if self._since is None:
                self._since = self._clock()
                self._say(f"{self.tool}: the broker does not answer ({type(exc).__name__}: {exc}); waiting for it, "
                          "nothing is dropped")

    def back(self) -> None:
        with self._lock:
            if self._since is not None:
                self._say(f"{self.tool}: the broker answers again ({self._clock() - self._since:.1f} s after it "
                          "stopped answering); carrying on")
                self._since = None


class Producer(Protocol):
    """What :class:`PatientSink` wraps: a :class:`KafkaSink` (a fake in unit tests)."""

    def send(self, topic: str, key: bytes | None, value: bytes) -> Delivery: ...

    def flush(self, timeout_s: float | None = None) -> None: ...

    def close(self, timeout_s: float | None = None) -> None: ...


class PatientSink:
    """A :class:`KafkaSink` that waits out broker outages (thread-safe); see the module docstring."""

    def __init__(self, sink: Producer, outage: Outage, *, wait_s: float = WAIT_S,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.sink, self.outage, self._wait_s, self._sleep = sink, outage, wait_s, sleep
        self._sent = 0  # records queued since the last flush began
        self._lock = threading.Lock()

    def send(self, topic: str, key: bytes | None, value: bytes) -> Delivery:
        """Queue one record, trying again while the producer cannot queue it (no metadata, no buffer space)."""
        pause = FIRST_PAUSE_S
        while True:
            try:
                delivery = self.sink.send(topic, key, value)
            except BrokerAway as exc:
                self.outage.away(exc)
                self._sleep(pause)
                pause = min(2 * pause, MAX_PAUSE_S)
                continue
            with self._lock:
                self._sent += 1
            return delivery

    def flush(self) -> None:
        """Wait until the broker acknowledged everything queued, however long it is away; raises
        :class:`DeliveryFailed` only for records the producer gave up on (refused, or DELIVERY_TIMEOUT_S passed)."""
        with self._lock:
            sent, self._sent = self._sent, 0
        while True:
            try:
                self.sink.flush(timeout_s=self._wait_s)
            except BrokerAway as exc:
                self.outage.away(exc)
                continue
            if sent:  # acknowledgements arrived: the broker answers (a flush of nothing proves nothing)
                self.outage.back()
            return

    def close(self, timeout_s: float | None = None) -> None:
        """Close the producer, waiting at most ``timeout_s`` (None: until it is done) for what it still holds."""
        self.sink.close(timeout_s)


def patient_sink(bootstrap: str, tool: str, say: Callable[[str], None] = _stderr) -> PatientSink:
    """A :class:`PatientSink` on a producer for ``bootstrap``; ``tool`` names who speaks in its lines."""
    return PatientSink(KafkaSink(bootstrap, delivery_timeout_s=DELIVERY_TIMEOUT_S), Outage(tool, say))
