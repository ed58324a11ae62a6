"""Consumer lag of a worker's own consumer group: ``shadowqa_consumer_lag{group,topic}``, every 5 s.

A topic's lag is the sum over its partitions of end offset minus the group's
committed offset; a partition the group never committed counts from its
earliest offset (where ``auto_offset_reset=earliest`` starts reading). The
aggregator reads ``comparisons`` without a group: its lag is end offsets minus
the read positions it records in :class:`ReadPositions`, labelled with its app
id as the group. One kafka-python admin client per process, reused every tick,
in a daemon thread: kafka-python blocks, and the faust event loop must not.
After a failed reading the client is dropped, and the next reading, on a new
client, comes RETRY_S later (doubling up to the interval while readings fail),
and only once the broker answers requests again (asked on a plain socket, every
PROBE_S): a client made during an outage would retry and log for as long as it
lasts, and reconnect up to its 30 s backoff after the broker is back. So after
an outage the reporter reconnects within a second of the broker; the worker's
log, which counts the clients' retries meanwhile, says the broker reconnected
once the reporter has read again (``on_reading``, streams/quiet_logs.py).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kafka import TopicPartition  # type: ignore[import-untyped, unused-ignore]
from kafka.admin import KafkaAdminClient, OffsetSpec  # type: ignore[import-untyped, unused-ignore]

from services.infra.client import answers_requests
from streams import metrics

log = logging.getLogger(__name__)
INTERVAL_S = 5.0
TIMEOUT_MS = 4000
RETRY_S = 1.0  # after a failed reading, the first pause before the next
PROBE_S = 0.5  # while the broker does not answer, between asking it again
Partition = tuple[str, int]  # (topic, partition)


class ReadPositions:
    """Next offset to read per partition, for a consumer without a group (the aggregator); shared across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._positions: dict[Partition, int] = {}

    def set(self, topic: str, partition: int, offset: int) -> None:
        with self._lock:
            self._positions[(topic, partition)] = offset

    def snapshot(self) -> dict[Partition, int]:
        with self._lock:
            return dict(self._positions)


def lag_by_topic(ends: Mapping[Partition, int], consumed: Mapping[Partition, int],
                 starts: Mapping[Partition, int]) -> dict[str, int]:
    """Per topic, the records between what was consumed (or the earliest offset, if nothing was) and the end."""
    lag: dict[str, int] = {}
    for (topic, partition), end in ends.items():
        done = consumed.get((topic, partition), starts.get((topic, partition), 0))
        lag[topic] = lag.get(topic, 0) + max(0, end - done)
    return lag


def pause_before_reading(failures: int, interval_s: float) -> float:
    """Seconds before the next reading: the interval; after ``failures`` failed ones, RETRY_S doubling up to it."""
    return min(RETRY_S * 2 ** (failures - 1), interval_s) if failures else interval_s


class LagReporter:
    """Measures ``group``'s lag on ``topics`` every ``interval_s`` in a daemon thread and sets the gauge."""

    def __init__(self, bootstrap: str, group: str, topics: Sequence[str], *, positions: ReadPositions | None = None,
                 interval_s: float = INTERVAL_S, on_reading: Callable[[], None] = lambda: None) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.topics = tuple(topics)
        self.positions = positions
        self.interval_s, self.on_reading = interval_s, on_reading  # called after each reading of the thread
        self._admin: Any = None
        self._partitions: list[Partition] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lag-{group}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (if started) and close the client."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval_s + TIMEOUT_MS / 1000)
        self._reset()

    def measure(self) -> dict[str, int]:
        """One reading: lag per topic (also set on the gauge)."""
        admin = self._client()
        found = {topic for topic, _ in self._partitions}
        partitions = self._partitions if len(found) == len(self.topics) else self._describe(admin)
        consumed = self._consumed(admin)
        ends = _offsets(admin, partitions, OffsetSpec.LATEST)
        unread = [p for p in partitions if p not in consumed]
        starts = _offsets(admin, unread, OffsetSpec.EARLIEST) if unread else {}
        lags = lag_by_topic(ends, consumed, starts)
        metrics.lag(self.group, lags)
        return lags

    def _run(self) -> None:
        failures = 0
        while not self._stop.wait(pause_before_reading(failures, self.interval_s)):
            if self._admin is None and not self._await_broker():
                return
            try:
                self.measure()
                failures = 0
                self.on_reading()
            except Exception as exc:  # the broker is away or restarting: try again on a new client once it answers
                log.warning("consumer lag of %s not measured: %s: %s", self.group, type(exc).__name__, exc)
                self._reset()
                failures += 1

    def _await_broker(self) -> bool:
        """Block until the broker answers requests (True) or the reporter is stopped (False)."""
        while not answers_requests(self.bootstrap, TIMEOUT_MS / 1000):
            if self._stop.wait(PROBE_S):
                return False
        return True

    def _client(self) -> Any:
        if self._admin is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"shadowqa-lag-{self.group}",
                                           request_timeout_ms=TIMEOUT_MS)
        return self._admin

    def _reset(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
        self._admin, self._partitions = None, []

    def _describe(self, admin: Any) -> list[Partition]:
        found = admin.describe_topics(list(self.topics))
        self._partitions = sorted((t["name"], p["partition_index"]) for t in found if t["error_code"] == 0
                                  for p in t["partitions"])
        return self._partitions

    def _consumed(self, admin: Any) -> dict[Partition, int]:
        if self.positions is not None:
            return self.positions.snapshot()
        committed = admin.list_group_offsets(self.group).get(self.group, {})
        return {(tp.topic, tp.partition): meta.offset for tp, meta in committed.items()
                if tp.topic in self.topics and meta.offset >= 0}


def _offsets(admin: Any, partitions: Sequence[Partition], spec: Any) -> dict[Partition, int]:
    answer = admin.list_partition_offsets({TopicPartition(t, p): spec for t, p in partitions}, timeout_ms=TIMEOUT_MS)
    return {(tp.topic, tp.partition): found.offset for tp, found in answer.items()}
