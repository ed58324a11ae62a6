"""Following a pipeline run's topics from the beginning into a :class:`Tally` (a background thread)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from typing import Any

from kafka import KafkaConsumer  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]

from services.infra.topic_names import TopicNames
from services.loop.tally import Tally
from services.tools.kafka import CLIENT_ID, RECONNECT_BACKOFF_MAX_MS

WATCHED = ("automation-results", "deliveries", "manual-queue", "manual-annotations", "comparisons",
           "agreement-stats", "recommendations", "policies", "dead-letters")


class TopicWatcher:
    """Reads every partition of the watched topics (no consumer group, committed records only)."""

    def __init__(self, bootstrap: str, names: TopicNames, topics: Sequence[str] = WATCHED) -> None:
        self.tally = Tally()
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._base = {names.name(t): t for t in topics}
        self._consumer: Any = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                            client_id=f"{CLIENT_ID}-watch", isolation_level="read_committed",
                                            auto_offset_reset="earliest",
                                            reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS)
        tps = [TopicPartition(t, p) for t in self._base for p in sorted(self._consumer.partitions_for_topic(t) or ())]
        self._consumer.assign(tps)
        self._consumer.seek_to_beginning(*tps)
        self._thread = threading.Thread(target=self._run, name="topic-watcher", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> TopicWatcher:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                batches = self._consumer.poll(timeout_ms=200, max_records=5000)
                with self.lock:
                    for tp, records in batches.items():
                        base = self._base[tp.topic]
                        for r in records:
                            self.tally.add(base, r.value)
        except BaseException as exc:  # reported by the caller, which checks ``error``
            self.error = exc
        finally:
            self._consumer.close()

    def snapshot(self) -> Tally:
        """A copy of the counts so far."""
        with self.lock:
            return copy.deepcopy(self.tally)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
