"""The aggregator's checkpoints: its whole state, with the read positions it covers, in a compacted topic.

One record per checkpoint under one key, so compaction keeps the latest. The
value is zlib-compressed JSON (the dedup window of recent keys dominates its
size: about 30 bytes per comparison of the last horizon, before compression);
the topic allows records up to :data:`MAX_BYTES`. A checkpoint is written only
after everything the state produced up to it was flushed, so a restart from it
re-reads the tail and republishes nothing it published before (the agent's
``Sent`` rule), and counts nothing twice (the dedup window comes with it).
"""

from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.infra.topics import TopicSpec, create_topics

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: StratumFold.sampled. A checkpoint of another version is not restored: the topic is recounted
KEY = b"checkpoint"
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Checkpoint:
    """The aggregator's state as of ``comparisons`` offset ``offsets["comparisons"]`` (the next to read)."""

    config: dict[str, Any]
    offsets: dict[str, int]  # topic role ("comparisons", "policy-pins") -> the next offset to read
    made: int  # recommendations the state has produced since the topic began
    policy_published: int  # the last policy version published
    aggregation: dict[str, Any]

    def encode(self) -> bytes:
        return zlib.compress(orjson.dumps({"schema_version": SCHEMA_VERSION, "config": self.config,
                                           "offsets": self.offsets, "made": self.made,
                                           "policy_published": self.policy_published,
                                           "aggregation": self.aggregation}), 3)

    @classmethod
    def decode(cls, raw: bytes) -> Checkpoint:
        doc = orjson.loads(zlib.decompress(raw))
        if doc.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"checkpoint schema version {doc.get('schema_version')!r}, expected {SCHEMA_VERSION}")
        return cls(doc["config"], {k: int(v) for k, v in doc["offsets"].items()}, int(doc["made"]),
                   int(doc["policy_published"]), doc["aggregation"])


class CheckpointStore:
    """Reads the latest checkpoint of ``topic`` and writes new ones (creating the topic when missing)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.producer: AIOKafkaProducer | None = None
        self.written = 0
        self.last_bytes = 0

    async def start(self) -> None:
        create_topics(self.bootstrap, [TopicSpec(self.topic, 1, "compact", max_message_bytes=MAX_BYTES)])
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, max_request_size=MAX_BYTES, acks="all")
        await self.producer.start()

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()

    async def latest(self) -> Checkpoint | None:
        """The last checkpoint on the topic (None if there is none, or the last one cannot be read)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    fetch_max_wait_ms=50, max_partition_fetch_bytes=MAX_BYTES)
        await consumer.start()
        try:
            tp = TopicPartition(self.topic, 0)
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            begin = (await consumer.beginning_offsets([tp]))[tp]
            last: bytes | None = None
            if end > begin:  # compaction keeps the latest record; older ones may linger until it runs
                consumer.seek(tp, end - 1)
                while await consumer.position(tp) < end:
                    for record in (await consumer.getmany(tp, timeout_ms=500)).get(tp, []):
                        last = record.value
        finally:
            await consumer.stop()
        if last is None:
            return None
        try:
            return Checkpoint.decode(last)
        except (ValueError, zlib.error, KeyError, TypeError) as exc:
            log.error("aggregator: the last checkpoint on %s cannot be read (%s): recounting from the beginning",
                      self.topic, exc)
            return None

    async def write(self, checkpoint: Checkpoint) -> None:
        assert self.producer is not None, "start() first"
        start = time.monotonic()
        raw = checkpoint.encode()
        await self.producer.send_and_wait(self.topic, raw, key=KEY)
        self.written += 1
        self.last_bytes = len(raw)
        log.info("aggregator: checkpoint %d at comparisons offset %d (%d counted, %d bytes) in %.2f s",
                 self.written, checkpoint.offsets.get("comparisons", 0), checkpoint.aggregation["counted"],
                 len(raw), time.monotonic() - start)
