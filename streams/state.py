"""Keyed worker state in a compacted Kafka topic, partitioned like the worker's input.

faust-streaming 0.15.3's changelog-backed tables never finished recovering on
this broker (Kafka 4.4, aiokafka 0.13 and 0.14: after any restart, graceful or
SIGKILL, recovery waits forever for changelog events; docs/streaming.md), so
the comparator keeps its join state here instead: every change is produced to
the state topic on the partition of the input record it came from, and flushed
before the input's offsets can be committed; when a worker is assigned a
partition it reads that partition of the state topic from the beginning.
Replayed input records find their effect already in the state (every update
is idempotent), so nothing is lost or applied twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)


class KeyedState:
    """JSON documents by key, per partition; ``load`` a partition before touching its keys."""

    def __init__(self, bootstrap: str, topic_name: str, topic: Any) -> None:
        self.bootstrap, self.topic_name, self.topic = bootstrap, topic_name, topic
        self.partitions: dict[int, dict[str, Any]] = {}

    async def ensure_loaded(self, partitions: Iterable[int]) -> None:
        missing = sorted(set(partitions) - set(self.partitions))
        if missing:
            await self._load(missing)

    def forget(self, partitions: Iterable[int]) -> None:
        """Drop partitions this worker no longer owns (another worker may change them meanwhile)."""
        for p in partitions:
            self.partitions.pop(p, None)

    def get(self, partition: int, key: str) -> Any:
        return self.partitions[partition].get(key)

    def items(self) -> Iterator[tuple[int, str, Any]]:
        for p, docs in self.partitions.items():
            for key, doc in list(docs.items()):
                yield p, key, doc

    async def put(self, partition: int, key: str, doc: Any) -> None:
        self.partitions[partition][key] = doc
        await self.topic.send(key=key.encode(), value=orjson.dumps(doc), partition=partition)

    async def delete(self, partition: int, key: str) -> None:
        self.partitions[partition].pop(key, None)
        await self.topic.send(key=key.encode(), value=None, partition=partition)

    async def _load(self, partitions: list[int]) -> None:
        start = time.monotonic()
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    fetch_max_wait_ms=50)
        await consumer.start()
        try:
            tps = [TopicPartition(self.topic_name, p) for p in partitions]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            loaded: dict[int, dict[str, Any]] = {p: {} for p in partitions}
            remaining = {tp for tp in tps if ends[tp] > 0}
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=500)
                for tp, records in batches.items():
                    docs = loaded[tp.partition]
                    for r in records:
                        key = r.key.decode()
                        if r.value is None:
                            docs.pop(key, None)
                        else:
                            docs[key] = orjson.loads(r.value)
                for tp in list(remaining):
                    if await consumer.position(tp) >= ends[tp]:
                        remaining.discard(tp)
        finally:
            await consumer.stop()
        self.partitions.update(loaded)
        log.info("state %s: loaded partitions %s (%d keys) in %.2f s", self.topic_name, partitions,
                 sum(len(d) for d in loaded.values()), time.monotonic() - start)
