"""Persist agent: the pipeline's topics → the database (``services/db/sink.py``), in batches.

Reads ``manual-queue`` (task rows, inserted once: the API owns them afterwards),
``comparisons``, ``agreement-stats``, ``recommendations``, ``policies``, and
for the routing ledger the router's outputs: a frame's ``deliveries`` record
or its tasks are the router's decision. Tasks are blind, so a manual frame's
model version comes from its ``automation-results`` record (or its machine
comparison), remembered for the frames seen lately; when the task came first
(its topic read ahead of automation-results), the ledger row is written without
one and filled in by the batch that reads the frame's automation result. The
hash salt is the pipeline's (``LoopConfig.salt``).

Each batch is one transaction; replays insert nothing. When the database is
down the batch is retried with backoff, and its records stay pinned
(un-acknowledged) until it is written, so their offsets are not committed —
not even when the worker is stopped meanwhile — and nothing is lost. A record
the database refuses (not a transient failure) goes to ``dead-letters``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

import orjson

from services.db.sink import KINDS, Batch, transient
from services.infra.topic_names import TopicNames
from services.loop.messages import InvalidMessage, decode
from streams import metrics
from streams.errors import DeadLetters

log = logging.getLogger(__name__)
T = TypeVar("T")
BATCH = 500
WITHIN = 0.2
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0
REMEMBERED_FRAMES = 100_000  # model versions kept for tasks that arrive after their automation result
STAGE = "persist"


def topics(names: TopicNames) -> tuple[str, ...]:
    """The topics the persist worker reads."""
    return tuple(names.name(kind) for kind in (*KINDS, "automation-results"))


class Persister:
    """Decodes a batch of records, writes it with ``write`` (retrying while the database is down), counts rows."""

    def __init__(self, write: Callable[[Batch], dict[str, int]], dead: DeadLetters, names: TopicNames, *,
                 retry_first_s: float = RETRY_FIRST_S) -> None:
        self.write = write
        self.dead = dead
        self.retry_first_s = retry_first_s
        self.kind_of = {names.name(kind): kind for kind in KINDS}
        self.automation = names.automation_results
        self.versions: OrderedDict[str, str] = OrderedDict()
        self.unversioned: OrderedDict[str, None] = OrderedDict()  # frames whose tasks came before their result
        self.late: dict[str, str] = {}  # model versions of unversioned frames, for the next batch to fill in

    async def persist(self, events: list[Any]) -> None:
        """Write ``events``' messages; returns once every record is written or dead-lettered."""
        singles = await self._decode(events)
        batch = self._merge(single for _, single in singles)
        try:
            counts = await until_done(partial(self.write, batch), f"writing {len(batch)} records",
                                      first_s=self.retry_first_s)
        except Exception:  # a row the database refuses: find it, write the others
            log.exception("persist: a batch of %d records failed; writing them one by one", len(batch))
            counts = await self._one_by_one(singles)
        metrics.persisted(counts)

    async def _decode(self, events: Iterable[Any]) -> list[tuple[Any, Batch]]:
        singles = []
        for event in events:
            topic, raw = event.message.topic, event.message.value
            if topic == self.automation:
                seen = _model_version(raw)
                self._remember(seen)
                if seen is not None and seen[0] in self.unversioned:
                    del self.unversioned[seen[0]]
                    self.late[seen[0]] = seen[1]
                continue
            try:
                single = Batch()
                single.add(decode(self.kind_of[topic], raw))
            except InvalidMessage as exc:
                await self.dead.reject(event, exc.reason, STAGE)
                continue
            singles.append((event, single))
        return singles

    def _merge(self, singles: Iterable[Batch]) -> Batch:
        batch = Batch()
        for single in singles:
            for message in (*single.tasks, *single.deliveries, *single.comparisons, *single.stats,
                            *single.recommendations, *single.policies):
                batch.add(message)
        for frame, version in batch.model_versions.items():
            self._remember((frame, version))
        for task in batch.tasks:
            if task.frame_id in self.versions:
                batch.model_versions.setdefault(task.frame_id, self.versions[task.frame_id])
            elif task.frame_id not in batch.model_versions:
                self.unversioned[task.frame_id] = None
        while len(self.unversioned) > REMEMBERED_FRAMES:
            self.unversioned.popitem(last=False)
        batch.model_versions.update(self.late)
        self.late.clear()
        return batch

    async def _one_by_one(self, singles: list[tuple[Any, Batch]]) -> Counter[str]:
        counts: Counter[str] = Counter()
        for event, single in singles:
            single.model_versions.update({t.frame_id: self.versions[t.frame_id] for t in single.tasks
                                          if t.frame_id in self.versions})
            try:
                counts.update(await until_done(partial(self.write, single), "writing one record",
                                               first_s=self.retry_first_s))
            except Exception as exc:
                await self.dead.reject(event, f"persist failed: {type(exc).__name__}: {exc}", STAGE)
        return counts

    def _remember(self, seen: tuple[str, str] | None) -> None:
        if seen is None:
            return
        frame, version = seen
        self.versions[frame] = version
        self.versions.move_to_end(frame)
        while len(self.versions) > REMEMBERED_FRAMES:
            self.versions.popitem(last=False)


async def until_done(step: Callable[[], T], what: str, *, first_s: float = RETRY_FIRST_S,
                     max_s: float = RETRY_MAX_S) -> T:
    """``step()`` in a thread (the event loop keeps heartbeating), retried with exponential backoff while it fails
    transiently (database down, connection lost, lock held); other errors are raised."""
    delay = first_s
    while True:
        try:
            return await asyncio.to_thread(step)
        except Exception as exc:
            if not transient(exc):
                raise
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            log.warning("persist: database unavailable while %s (%s: %s); retrying in %.1f s", what,
                        type(exc).__name__, reason, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_s)


def pin(events: Iterable[Any]) -> None:
    """Hold ``events`` un-acknowledged: faust acks a batch's events when the loop moves on (or is cancelled),
    and an extra reference keeps their offsets from being committed until :func:`unpin`."""
    for event in events:
        event.message.incref()


def unpin(events: Iterable[Any]) -> None:
    for event in events:
        event.message.decref()


def register(app: Any, names: TopicNames, dead: DeadLetters, write: Callable[[Batch], dict[str, int]],
             migrate: Callable[[], None]) -> Any:
    persister = Persister(write, dead, names)
    source = app.topic(*topics(names), key_serializer="raw", value_serializer="raw")

    @app.agent(source, name="persist")
    async def persist(stream: Any) -> None:
        await until_done(migrate, "migrating the database")
        async for events in stream.take_events(BATCH, within=WITHIN):
            pin(events)
            await persister.persist(events)
            await app.producer.flush()  # dead letters delivered before the batch's offsets can be committed
            unpin(events)

    return persist


def _model_version(raw: bytes | None) -> tuple[str, str] | None:
    """(frame id, model version) of an automation result; the router judges its validity, not us."""
    try:
        doc = orjson.loads(raw or b"null")
        frame, version = doc["frame_id"], doc["model_version"]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return None
    return (frame, version) if isinstance(frame, str) and isinstance(version, str) else None
