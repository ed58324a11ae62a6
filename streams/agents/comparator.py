"""Comparator agent: joins ``automation-results``, ``manual-queue``, ``deliveries`` and ``manual-annotations``
by frame id (all co-partitioned), compares in batches, and emits ``comparisons``.

A changelog-backed table holds each frame's join state (``services/pipeline/join.py``)
until the frame is shipped or fully compared; entries that wait longer than the
TTL are expired and counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from services.infra.topic_names import TopicNames
from services.messages import InvalidMessage, encode
from services.pipeline.context import CompareContext
from services.pipeline.join import JOINED, Pending, Update, absorb, compare_ready
from streams.config import PipelineConfig
from streams.errors import DeadLetters
from streams.topics import Topics, raw_schema

log = logging.getLogger(__name__)
EXPIRY_EVERY = 30.0  # seconds between scans for expired entries


class ComparatorStats:
    def __init__(self) -> None:
        self.compared = 0
        self.expired = 0
        self.expired_unmatched = 0


def register(app: Any, names: TopicNames, topics: Topics, dead: DeadLetters, cfg: PipelineConfig,
             partitions: int) -> Any:
    ctx = CompareContext.for_dataset(cfg.dataset)
    # batches have no current event, so changelog records are partitioned by key (murmur2, as the
    # producers of the four source topics do): the changelog stays co-partitioned with the sources
    pending = app.Table("comparator-pending", default=None, partitions=partitions, schema=raw_schema("json"),
                        use_partitioner=True)
    stats = ComparatorStats()
    absorb = _absorbers(names)
    last_scan = [time.time()]

    @app.agent(topics.comparator_input, name="comparator")
    async def comparator(stream: Any) -> None:
        async for events in stream.take_events(cfg.compare_batch, within=cfg.batch_within):
            now = time.time()
            touched: dict[str, Pending] = {}
            for event in events:
                step = absorb.get(event.message.topic)
                try:
                    if step is None:
                        raise InvalidMessage(f"comparator does not read topic {event.message.topic}")
                    frame_id, update = step(event.message.value)
                except InvalidMessage as exc:
                    await dead.reject(event, exc.reason, "comparator")
                    continue
                current = touched.get(frame_id) or _load(pending, frame_id, now)
                touched[frame_id] = update(current)
            for comparison in compare_ready(touched, ctx):
                await topics.comparisons.send(key=comparison.frame_id.encode(), value=encode(comparison))
                stats.compared += 1
            _store(pending, touched)
            if now - last_scan[0] > EXPIRY_EVERY:
                last_scan[0] = now
                _expire(pending, now, cfg.pending_ttl, stats)
            await app.producer.flush()  # comparisons and changelog delivered before offsets can be committed

    comparator.stats = stats
    return comparator


def _absorbers(names: TopicNames) -> dict[str, Callable[[bytes], tuple[str, Update]]]:
    """Per prefixed source topic: how a record of it changes its frame's join state."""
    return {names.name(base): partial(absorb, base) for base in JOINED}


def _load(pending: Any, frame_id: str, now: float) -> Pending:
    doc = pending.get(frame_id.encode())
    return Pending(since=now) if doc is None else Pending.from_dict(doc)


def _store(pending: Any, touched: dict[str, Pending]) -> None:
    """A complete frame keeps a payload-free entry until it expires, so a replayed record of it
    (after a crash, before its offset was committed) finds it done instead of starting over."""
    for frame_id, p in touched.items():
        pending[frame_id.encode()] = (p.settled() if p.complete else p).to_dict()


def _expire(pending: Any, now: float, ttl: float, stats: ComparatorStats) -> None:
    for key, doc in list(pending.items()):
        if now - doc["since"] > ttl:
            del pending[key]
            if Pending.from_dict(doc).complete:
                continue
            stats.expired += 1
            stats.expired_unmatched += int(not doc["shipped"] and doc["copies"] > 0)
    if stats.expired:
        log.warning("comparator: %d entries expired (%d manual frames never fully compared)", stats.expired,
                    stats.expired_unmatched)
