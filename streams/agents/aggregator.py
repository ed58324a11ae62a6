"""Aggregator and recommender: ``comparisons`` → ``agreement-stats``, ``recommendations`` and ``policies``.

The aggregator's state is a function of the ``comparisons`` topic: each
(frame, kind) counted once and fed to the loop's folds (``services/loop/aggregation.py``:
per-stratum stats, and the recommender stepped once per window of machine comparisons).
So it keeps no state of its own: every start reads the topic from the
beginning (no consumer group), catches up to the end offsets it found —
publishing no stats and no recommendation it has published before, but the
recommendations of windows closed while it was down — and then follows the
topic, emitting stats after every batch and a recommendation (and, with
auto-apply, a policy) after every window. A duplicate comparison (a comparator replay after a
crash) is recognised by its key and dropped. Run one aggregator process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from analysis.policy.automation import ALL
from analysis.recommend import Recommendation
from services.loop.aggregation import Aggregation
from services.loop.config import LoopConfig
from services.loop.messages import ComparisonMessage, InvalidMessage, decode, encode
from services.loop.recommend import policy_message, recommendation_message
from streams import metrics
from streams.config import PipelineConfig
from streams.lag import ReadPositions
from streams.topics import Topics

log = logging.getLogger(__name__)


def register(app: Any, topics: Topics, cfg: PipelineConfig, bootstrap: str, comparisons_topic: str,
             recommendations_topic: str, positions: ReadPositions | None = None) -> Any:
    """The aggregator task; its read positions go to ``positions`` (its consumer lag: it has no group)."""
    derived = [Aggregation(cfg.loop)]
    counted: set[tuple[str, str]] = set()
    caught_up: list[bool] = []

    @app.task
    async def aggregate() -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                    fetch_max_wait_ms=50, max_poll_records=2000)
        await consumer.start()
        try:
            tps = [TopicPartition(comparisons_topic, p) for p in sorted(consumer.partitions_for_topic(
                comparisons_topic) or await _partitions(consumer, comparisons_topic))]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            catch_up = {tp: end for tp, end in (await consumer.end_offsets(tps)).items() if end > 0}
            sent = await _published(consumer, recommendations_topic)
            log.info("aggregator: catching up on %d comparisons (%d recommendations published before)",
                     sum(catch_up.values()), sent.published)
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                batch = []
                for records in batches.values():
                    for r in records:
                        try:
                            c = decode(ComparisonMessage, r.value)
                        except InvalidMessage as exc:  # the comparator validated it: log, never count
                            log.error("aggregator: skipping an invalid comparison at %s/%d: %s", r.partition,
                                      r.offset, exc.reason)
                            continue
                        if (c.frame_id, c.kind) not in counted:
                            counted.add((c.frame_id, c.kind))
                            batch.append(c)
                recommendations = sent.unpublished(derived[0].add(batch), cfg.loop.auto_apply)
                metrics.counted(batch)
                if positions is not None:
                    for tp in tps:
                        positions.set(tp.topic, tp.partition, await consumer.position(tp))
                for tp in list(catch_up):
                    if await consumer.position(tp) >= catch_up[tp]:
                        del catch_up[tp]
                if catch_up:  # catching up: no stats; recommendations only those never published
                    await _publish(topics, derived[0].config, recommendations, sent)
                elif not caught_up:  # once after the catch-up, every stratum's stats as they stand
                    caught_up.append(True)
                    await _emit(topics, derived[0], derived[0].folds, recommendations, sent)
                elif batch:
                    await _emit(topics, derived[0], {c.stratum for c in batch}, recommendations, sent)
                await app.producer.flush()
        finally:
            await consumer.stop()

    return aggregate


async def _partitions(consumer: Any, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # the first metadata may not list the topic yet
    return set(consumer.partitions_for_topic(topic) or ())


class Sent:
    """What this aggregator (or the one before a restart) published: recommendations, the last policy version.

    The ``recommendations`` topic has one partition and one writer, so its end offset at start counts the
    recommendations published before; recomputing them from the start, the first that many are not sent again
    and the rest are (those of windows closed while no aggregator ran)."""

    def __init__(self, published: int) -> None:
        self.published = published  # recommendations on the topic at start
        self.made = 0  # recommendations recomputed since start
        self.policy = -1  # the last policy version published to ``policies``

    def unpublished(self, recommendations: list[Recommendation], auto_apply: bool) -> list[Recommendation]:
        out = []
        for r in recommendations:
            if self.made >= self.published:
                out.append(r)
            elif auto_apply:
                self.policy = r.policy.version
            self.made += 1
        return out


async def _published(consumer: Any, topic: str) -> Sent:
    tp = TopicPartition(topic, 0)
    return Sent(int((await consumer.end_offsets([tp]))[tp]))


async def _emit(topics: Topics, derived: Aggregation, strata: Iterable[str],
                recommendations: list[Recommendation], sent: Sent) -> None:
    now = time.time()
    for stats in derived.stats(strata, time=now):
        metrics.stats(stats)
        await topics.out.agreement_stats.send(key=stats.stratum.encode(), value=encode(stats))
    await _publish(topics, derived.config, recommendations, sent)


async def _publish(topics: Topics, config: LoopConfig, recommendations: list[Recommendation], sent: Sent) -> None:
    now = time.time()
    for recommendation in recommendations:
        message = recommendation_message(recommendation, now)
        metrics.recommendation(message)
        await topics.out.recommendations.send(key=ALL.encode(), value=encode(message))
        if config.auto_apply and recommendation.policy.version != sent.policy:
            sent.policy = recommendation.policy.version
            await topics.out.policies.send(key=b"policy", value=encode(policy_message(recommendation, now)))
