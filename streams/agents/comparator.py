"""Comparator agent: joins ``automation-results``, ``manual-queue``, ``deliveries`` and ``manual-annotations``
by frame id (all co-partitioned), compares in batches, and emits ``comparisons``.

Each frame's join state (``services/loop/join.py``) lives in a keyed state
topic partitioned like the input (``streams/state.py``) until the frame is
shipped or fully compared, then as a payload-free settled entry until the TTL,
so a record replayed after a crash is recognised. Entries still incomplete
after the TTL are expired and counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from services.datasets.profiles import profile
from services.infra.topic_names import TopicNames
from services.loop.context import CompareContext
from services.loop.join import JOINED, Decoded, Pending, Update, absorb, compare_ready
from services.loop.messages import InvalidMessage, encode
from streams import metrics
from streams.config import PipelineConfig
from streams.errors import DeadLetters
from streams.state import KeyedState
from streams.topics import Topics

log = logging.getLogger(__name__)
EXPIRY_EVERY = 30.0  # seconds between scans for expired entries


class ComparatorStats:
    """Expiries so far, for the warning that names them (the metric counts them too)."""

    def __init__(self) -> None:
        self.expired = 0
        self.expired_unmatched = 0


def register(app: Any, names: TopicNames, topics: Topics, dead: DeadLetters, cfg: PipelineConfig,
             state: KeyedState) -> Any:
    ctx = CompareContext.of(profile(cfg.loop.dataset))
    stats = ComparatorStats()
    absorbers = _absorbers(names)
    last_scan = [time.time()]
    own = set(absorbers)

    @app.on_partitions_revoked.connect
    async def forget(sender: Any, revoked: Any, **kwargs: Any) -> None:
        state.forget({tp.partition for tp in revoked if tp.topic in own})

    @app.agent(topics.comparator_input, name="comparator")
    async def comparator(stream: Any) -> None:
        async for events in stream.take_events(cfg.compare_batch, within=cfg.batch_within):
            now = time.time()
            await state.ensure_loaded({e.message.partition for e in events})
            touched: dict[str, Pending] = {}
            partition_of: dict[str, int] = {}
            events_of: dict[str, list[Any]] = {}
            decoded: Decoded = {}  # the batch's sides, decoded once
            for event in events:
                step = absorbers.get(event.message.topic)
                try:
                    if step is None:
                        raise InvalidMessage(f"comparator does not read topic {event.message.topic}")
                    frame_id, update = step(event.message.value, decoded)
                except InvalidMessage as exc:
                    await dead.reject(event, exc.reason, "comparator")
                    continue
                partition_of[frame_id] = event.message.partition
                current = touched.get(frame_id) or _load(state, event.message.partition, frame_id, now)
                touched[frame_id] = update(current)
                events_of.setdefault(frame_id, []).append(event)
            comparisons, failed = _compare_isolated(touched, ctx, decoded)
            for frame_id, error in failed.items():
                for event in events_of[frame_id]:
                    await dead.reject(event, f"processing failed: {type(error).__name__}: {error}", "comparator")
            metrics.compared(comparisons)
            for comparison in comparisons:
                await topics.out.comparisons.send(key=comparison.frame_id.encode(), value=encode(comparison))
            for frame_id, p in touched.items():
                await state.put(partition_of[frame_id], frame_id, (p.settled() if p.complete else p).to_dict())
            if now - last_scan[0] > EXPIRY_EVERY:
                last_scan[0] = now
                await _expire(state, now, cfg.loop.pending_ttl, stats)
            await app.producer.flush()  # comparisons and state delivered before offsets can be committed

    return comparator


def _absorbers(names: TopicNames) -> dict[str, Callable[[bytes, Decoded], tuple[str, Update]]]:
    """Per prefixed source topic: how a record of it changes its frame's join state."""
    return {names.name(base): partial(absorb, base) for base in JOINED}


def _compare_isolated(touched: dict[str, Pending], ctx: CompareContext,
                      decoded: Decoded) -> tuple[list[Any], dict[str, Exception]]:
    """Compare the batch; if that raises, frame by frame, settling each frame that fails (it is dead-lettered)."""
    try:
        return compare_ready(touched, ctx, decoded), {}
    except Exception:
        out: list[Any] = []
        failed: dict[str, Exception] = {}
        for frame_id in list(touched):
            one = {frame_id: touched[frame_id]}
            try:
                out += compare_ready(one, ctx, decoded)
            except Exception as exc:
                failed[frame_id] = exc
                one[frame_id] = replace(touched[frame_id], machine_done=True, people_done=True, failed=True)
            touched[frame_id] = one[frame_id]
        return out, failed


def _load(state: KeyedState, partition: int, frame_id: str, now: float) -> Pending:
    doc = state.get(partition, frame_id)
    return Pending(since=now) if doc is None else Pending.from_dict(doc)


async def _expire(state: KeyedState, now: float, ttl: float, stats: ComparatorStats) -> None:
    expired = 0
    for partition, key, doc in state.items():
        if now - doc["since"] > ttl:
            await state.delete(partition, key)
            if Pending.from_dict(doc).complete:
                continue
            expired += 1
            stats.expired_unmatched += int(not doc["shipped"] and doc["copies"] > 0)
    stats.expired += expired
    metrics.EXPIRED.inc(expired)
    if expired:
        log.warning("comparator: %d entries expired (%d manual frames never fully compared so far)", expired,
                    stats.expired_unmatched)
