"""Aggregator and recommender: ``comparisons`` and ``policy-pins`` → ``agreement-stats``, ``recommendations``,
``policies``.

Its state (``services/loop/aggregation.py``: per-stratum stats, the
recommender's windowing, the policy authority, a window of recently counted
keys) is a function of the ``comparisons`` and ``policy-pins`` topics. It is
checkpointed to a compacted state topic (``streams/checkpoint.py``) every
``checkpoint_interval`` seconds with the offsets it covers, so a start reads
the latest checkpoint and then only the tail of the topics (no consumer group):
restart time and memory do not grow with history, and records deleted by
retention before the checkpoint are not missed. Catching up on the tail it
publishes no stats, and no recommendation it has published before (the
``recommendations`` topic has one partition and one writer, so its end offset
counts them), and then follows the topics, emitting stats after every batch and
a recommendation after every window. It is the only writer of ``policies``:
whenever the policy in force changes (a recommendation with auto-apply, a
person's pin or release) it publishes the new version, and with auto-apply a
record with fresh evidence after every window. A duplicate comparison (a
comparator replay after a crash) is recognised by its key and dropped. Run one
aggregator process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from analysis.policy import pins as pin_records
from analysis.policy.automation import ALL, AutomationPolicy
from analysis.policy.pins import InvalidPin
from analysis.recommend import Recommendation
from services.infra.topic_names import TopicNames
from services.loop.aggregation import Aggregation
from services.loop.messages import ComparisonMessage, InvalidMessage, decode, encode
from services.loop.recommend import policy_message, recommendation_message
from streams import metrics
from streams.checkpoint import Checkpoint, CheckpointStore
from streams.config import PipelineConfig
from streams.lag import ReadPositions
from streams.topics import Topics

log = logging.getLogger(__name__)


def state_topic(names: TopicNames) -> str:
    return f"{names.prefix}shadowqa-aggregator-state"


@dataclass
class Sent:
    """What this aggregator (or the one before a restart) published: recommendations, the last policy version.

    ``published`` is the ``recommendations`` topic's end offset at start; ``made`` the recommendations the state
    has produced since the topic began. Recomputing the tail, the first ``published - made`` are not sent again."""

    published: int
    made: int = 0
    policy: int = 0  # version 0 (nothing ships) is what routers assume before any record

    def unpublished(self, recommendations: list[Recommendation]) -> list[Recommendation]:
        out = [r for i, r in enumerate(recommendations) if self.made + i >= self.published]
        self.made += len(recommendations)
        return out


def register(app: Any, topics: Topics, cfg: PipelineConfig, bootstrap: str, names: TopicNames,
             positions: ReadPositions | None = None) -> Any:
    """The aggregator task; its read positions go to ``positions`` (its consumer lag: it has no group)."""

    @app.task
    async def aggregate() -> None:
        store = CheckpointStore(bootstrap, state_topic(names))
        await store.start()
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                    fetch_max_wait_ms=50, max_poll_records=2000)
        await consumer.start()
        try:
            await _run(app, topics, cfg, consumer, store, names, positions)
        finally:
            await consumer.stop()
            await store.stop()

    return aggregate


async def _run(app: Any, topics: Topics, cfg: PipelineConfig, consumer: Any, store: CheckpointStore,
               names: TopicNames, positions: ReadPositions | None) -> None:
    comparisons, pins = TopicPartition(names.comparisons, 0), TopicPartition(names.policy_pins, 0)
    consumer.assign([comparisons, pins])
    aggregation, sent = await _restore(consumer, store, cfg, comparisons, pins, names)
    catch_up = (await consumer.end_offsets([comparisons]))[comparisons]
    caught_up, last_checkpoint, dirty = False, time.monotonic(), False
    while True:
        batches = await consumer.getmany(timeout_ms=200)
        pinned = [p for r in batches.get(pins, []) for p in _pin(aggregation, r)]
        added = aggregation.add_all(_decoded(batches.get(comparisons, [])))
        dirty = dirty or bool(added.counted or pinned)
        metrics.counted(added.counted)
        metrics.attributed(added.counted)
        position = await consumer.position(comparisons)
        if positions is not None:
            positions.set(comparisons.topic, 0, position)
        fresh = sent.unpublished(added.recommendations)
        if position < catch_up:  # catching up: no stats; recommendations only those never published
            await _publish(topics, aggregation, fresh, sent)
        elif not caught_up:  # once after the catch-up, every stratum's stats as they stand
            caught_up = True
            await _emit(topics, aggregation, aggregation.folds, fresh, sent)
        else:
            await _emit(topics, aggregation, {c.stratum for c in added.counted}, fresh, sent)
        await app.producer.flush()
        if dirty and time.monotonic() - last_checkpoint >= cfg.checkpoint_interval:  # catching up too
            await store.write(Checkpoint(cfg.loop.to_dict(), {"comparisons": position,
                                                              "policy-pins": await consumer.position(pins)},
                                         sent.made, sent.policy, aggregation.to_dict()))
            metrics.checkpoint(position, store.last_bytes, len(aggregation.seen.seen))
            last_checkpoint, dirty = time.monotonic(), False


async def _restore(consumer: Any, store: CheckpointStore, cfg: PipelineConfig, comparisons: TopicPartition,
                   pins: TopicPartition, names: TopicNames) -> tuple[Aggregation, Sent]:
    """The state of the latest checkpoint with the consumer at the offsets it covers; a fresh state counting from
    the topics' beginning when there is none or it cannot be used (said in the log)."""
    rec = TopicPartition(names.recommendations, 0)
    published = (await consumer.end_offsets([rec]))[rec]
    checkpoint = await store.latest()
    if checkpoint is None:
        return await _recount(consumer, cfg, comparisons, pins, published, "no checkpoint")
    settings = cfg.loop.to_dict()
    differ = sorted(k for k in {*checkpoint.config, *settings} if checkpoint.config.get(k) != settings.get(k))
    if differ:
        return await _recount(consumer, cfg, comparisons, pins, published,
                              f"the last checkpoint was made under other loop settings ({', '.join(differ)})")
    try:
        aggregation = Aggregation.from_dict(cfg.loop, checkpoint.aggregation)
    except (KeyError, TypeError, ValueError) as exc:  # a state this version cannot read: recount, never crash
        return await _recount(consumer, cfg, comparisons, pins, published,
                              f"the last checkpoint's state cannot be read ({type(exc).__name__}: {exc})")
    consumer.seek(comparisons, checkpoint.offsets["comparisons"])
    consumer.seek(pins, checkpoint.offsets["policy-pins"])
    log.info("aggregator: restored the checkpoint at comparisons offset %d (%d counted); reading the tail",
             checkpoint.offsets["comparisons"], aggregation.counted)
    return aggregation, Sent(published, checkpoint.made, checkpoint.policy_published)


async def _recount(consumer: Any, cfg: PipelineConfig, comparisons: TopicPartition, pins: TopicPartition,
                   published: int, why: str) -> tuple[Aggregation, Sent]:
    await consumer.seek_to_beginning(comparisons, pins)
    begin = (await consumer.beginning_offsets([comparisons]))[comparisons]
    log.log(logging.INFO if why == "no checkpoint" else logging.ERROR,
            "aggregator: %s: counting the comparisons from the topic's beginning (%d recommendations published "
            "before)", why, published)
    if begin > 0:
        log.warning("aggregator: the first %d comparisons were deleted by retention: they are not counted", begin)
    return Aggregation(cfg.loop), Sent(published)


def _decoded(records: Iterable[Any]) -> list[ComparisonMessage]:
    out = []
    for r in records:
        try:
            out.append(decode(ComparisonMessage, r.value))
        except InvalidMessage as exc:  # the comparator validated it: log, never count
            log.error("aggregator: skipping an invalid comparison at offset %d: %s", r.offset, exc.reason)
    return out


def _pin(aggregation: Aggregation, record: Any) -> list[AutomationPolicy]:
    if record.value is None:
        return []
    try:
        return aggregation.pin(pin_records.decode(record.value))
    except InvalidPin as exc:  # the API validated it: log, never apply
        log.error("aggregator: skipping an invalid policy-pins record at offset %d: %s", record.offset, exc)
        return []


async def _emit(topics: Topics, aggregation: Aggregation, strata: Iterable[str], fresh: list[Recommendation],
                sent: Sent) -> None:
    now = time.time()
    for stats in aggregation.stats(strata, time=now):
        metrics.stats(stats)
        await topics.out.agreement_stats.send(key=stats.stratum.encode(), value=encode(stats))
    await _publish(topics, aggregation, fresh, sent)


async def _publish(topics: Topics, aggregation: Aggregation, fresh: list[Recommendation], sent: Sent) -> None:
    """The batch's unpublished recommendations, then the policy in force when its version is new, or (with
    auto-apply) when a new recommendation refreshed the evidence."""
    now = time.time()
    for recommendation in fresh:
        message = recommendation_message(recommendation, now)
        metrics.recommendation(message)
        await topics.out.recommendations.send(key=ALL.encode(), value=encode(message))
    authority = aggregation.authority
    policy = authority.effective()
    if policy.version > sent.policy or (fresh and aggregation.config.auto_apply):
        applied_by, reason = ("recommender (auto-apply)", fresh[-1].reason) if fresh else \
            ("pin", "a person's pin or release")
        await topics.out.policies.send(key=b"policy", value=encode(policy_message(
            policy, applied_by=applied_by, reason=reason, now=now, pinned=authority.pinned(),
            evidence=aggregation.evidence())))
        sent.policy = max(sent.policy, policy.version)
