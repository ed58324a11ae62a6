"""kafka-python for the tools: checked topics, a producer that reports failed deliveries, a record shape.

kafka-python is untyped, so its objects are ``Any`` here and nowhere else in
the tools. Keys are frame ids (UTF-8); the client's default partitioner is
murmur2 of the key bytes, the same as Java's and aiokafka's, so every producer
puts a frame's messages on the same partition number of every topic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from kafka import KafkaProducer  # type: ignore[import-untyped, unused-ignore]
from kafka.errors import (  # type: ignore[import-untyped, unused-ignore]
    InvalidRecordError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
)

from services.infra.client import admin_client
from services.tools.exceptions import BrokerAway, DeliveryFailed, RecordRefused, RecordTooLarge, UnknownTopic

CLIENT_ID = "shadowqa-tools"
# kafka-python backs off up to 30 s between attempts to reach a lost broker: a restarted broker would wait that long
# for the tools' clients; at most 1 s on loopback costs nothing
RECONNECT_BACKOFF_MAX_MS = 1_000


@dataclass(frozen=True)
class Record:
    """A consumed record as the tools use it (kafka-python's ``ConsumerRecord`` reduced to what matters)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None

    @classmethod
    def of(cls, record: Any) -> Record:
        return cls(record.topic, record.partition, record.offset, record.timestamp, record.key, record.value)


class Delivery(Protocol):
    """One sent record's fate, known once its sink has been flushed."""

    def failure(self) -> DeliveryFailed | None:
        """None if the broker acknowledged the record; :class:`RecordRefused` if the record itself was refused
        (sending it again cannot help); else :class:`DeliveryFailed` (not acknowledged: the broker may be away)."""
        ...


class Sink(Protocol):
    """Where a tool sends messages: a Kafka producer, or a list in tests."""

    def send(self, topic: str, key: bytes | None, value: bytes) -> Delivery | None:
        """Queue one record; its :class:`Delivery` (None: the sink reports failures through ``flush`` only).
        Raises :class:`RecordRefused` for a record the producer refuses before sending (larger than its
        ``max_request_size``: :class:`RecordTooLarge`), :class:`DeliveryFailed` when it cannot send at all."""
        ...

    def flush(self) -> None:
        """Wait until everything sent is acknowledged; raise :class:`DeliveryFailed` if anything was not."""
        ...


class KafkaSink:
    """A kafka-python producer (acks from all in-sync replicas) that counts failed deliveries; thread-safe."""

    def __init__(self, bootstrap: str, *, linger_ms: int = 5, delivery_timeout_s: float | None = None) -> None:
        """``delivery_timeout_s``: how long the producer retries a record before it reports it failed (None:
        kafka-python's 120 s). Its retries are idempotent: a record the broker wrote is never written again."""
        timeout = {} if delivery_timeout_s is None else {"delivery_timeout_ms": int(delivery_timeout_s * 1000)}
        try:
            self.producer = KafkaProducer(bootstrap_servers=bootstrap, client_id=CLIENT_ID, acks="all",
                                          linger_ms=linger_ms, max_block_ms=10_000,
                                          reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS, **timeout)
        except KafkaError as exc:
            raise DeliveryFailed(f"cannot connect a producer to {bootstrap} ({type(exc).__name__}: {exc})") from exc
        self._lock = threading.Lock()
        self._failed = 0
        self._first_error = ""

    def send(self, topic: str, key: bytes | None, value: bytes) -> Delivery:
        try:
            future = self.producer.send(topic, value=value, key=key)
        except KafkaTimeoutError as exc:  # no metadata or no buffer space in time: not queued
            raise BrokerAway(f"cannot queue a record to {topic} ({type(exc).__name__}: {exc})") from exc
        except KafkaError as exc:
            raise _failed(f"cannot send to {topic}", exc) from exc
        future.add_errback(self._failure)
        return _KafkaDelivery(topic, future)

    def flush(self, timeout_s: float | None = None) -> None:
        """:meth:`Sink.flush`; :class:`BrokerAway` if records are still unacknowledged after ``timeout_s`` (the
        producer keeps retrying them: flush again to wait on)."""
        try:
            self.producer.flush(timeout=timeout_s)
        except KafkaTimeoutError as exc:
            raise BrokerAway(f"records are not acknowledged after {timeout_s} s") from exc
        with self._lock:
            failed, first, self._failed = self._failed, self._first_error, 0
        if failed:
            raise DeliveryFailed(f"{failed} message(s) were not acknowledged by the broker (first: {first})")

    def close(self, timeout_s: float | None = None) -> None:
        """Close the producer; records not acknowledged within ``timeout_s`` (None: no bound) are dropped."""
        self.producer.close(timeout=timeout_s)

    def _failure(self, exc: BaseException) -> None:
        with self._lock:
            self._failed += 1
            self._first_error = self._first_error or f"{type(exc).__name__}: {exc}"


class _KafkaDelivery:
    """A kafka-python future as a :class:`Delivery`."""

    def __init__(self, topic: str, future: Any) -> None:
        self._topic, self._future = topic, future

    def failure(self) -> DeliveryFailed | None:
        if not self._future.is_done:
            return DeliveryFailed(f"a record to {self._topic} is not acknowledged yet (flush first)")
        if self._future.exception is None:
            return None
        return _failed(f"the broker did not acknowledge a record to {self._topic}", self._future.exception)


def _failed(what: str, exc: BaseException) -> DeliveryFailed:
    """The tools' error for kafka-python's ``exc``: refusals of the record itself apart from everything else."""
    kind = (RecordTooLarge if isinstance(exc, MessageSizeTooLargeError)
            else RecordRefused if isinstance(exc, InvalidRecordError) else DeliveryFailed)
    return kind(f"{what} ({type(exc).__name__}: {exc})")


def require_topics(bootstrap: str, topics: Iterable[str]) -> None:
    """Raise :class:`UnknownTopic` naming the first topic the broker does not have (it never creates them)."""
    with admin_client(bootstrap) as admin:
        existing = set(admin.list_topics())
    missing = [t for t in topics if t not in existing]
    if missing:
        raise UnknownTopic(f"topic {missing[0]!r} does not exist on {bootstrap} (create the topics with "
                           "`shadowqa infra kafka up`, and check --prefix)")


def key_bytes(key: str) -> bytes:
    return key.encode("utf-8")
