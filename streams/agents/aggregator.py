"""Aggregator and recommender: ``comparisons`` → ``agreement-stats``, ``recommendations`` and ``policies``.

The aggregator's state is a function of the ``comparisons`` topic: each
(frame, kind) counted once, folded per stratum (``services/loop/aggregate.py``),
and stepped through the recommender once per window of machine comparisons.
So it keeps no state of its own: every start reads the topic from the
beginning (no consumer group), catches up silently to the end offsets it found
— publishing nothing it has published before — and then follows the topic,
emitting stats after every batch and a recommendation (and, with auto-apply, a
policy) after every window. A duplicate comparison (a comparator replay after a
crash) is recognised by its key and dropped. Run one aggregator process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from analysis.policy.automation import ALL
from analysis.recommend import (
    GRID_RATES,
    Guardrails,
    MaxStep,
    Recommendation,
    Recommender,
    RecommenderConfig,
    RecommenderState,
    candidates_at_rates,
)
from services.loop.aggregate import StratumFold
from services.loop.messages import ComparisonMessage, InvalidMessage, decode, encode
from services.loop.recommend import observation, policy_message, recommendation_message, weight_bounds
from streams import metrics
from streams.config import PipelineConfig
from streams.lag import ReadPositions
from streams.topics import Topics

log = logging.getLogger(__name__)


@dataclass
class Derived:
    """What the counted comparisons imply: folds per stratum and the recommender's state.

    The recommender steps once per window of ``cfg.window`` machine comparisons
    (its guardrails bound each step), as the offline replay steps once per
    window of frames; its threshold grid is placed at the confidences of the
    first window (thresholds shipping 2.5 %, 5 %, … of such frames). Everything
    is a function of the comparisons in arrival order, so a rebuild reproduces it.
    """

    cfg: PipelineConfig
    folds: dict[str, StratumFold] = field(default_factory=dict)
    counted: int = 0
    window: list[ComparisonMessage] = field(default_factory=list)
    recommender: Recommender | None = None
    state: RecommenderState | None = None
    published: int = -1  # the last policy version published to ``policies``

    def add(self, batch: list[ComparisonMessage]) -> list[Recommendation]:
        """Count ``batch``; the recommendations of the windows it completes."""
        out = []
        for c in batch:
            self.folds[c.stratum] = self.folds.get(c.stratum, StratumFold()).add(c)
            self.counted += 1
            self.window.append(c)
            if c.kind == "machine" and sum(w.kind == "machine" for w in self.window) >= self.cfg.window:
                out.append(self._step(self.window))
                self.window = []
        return out

    def _step(self, window: list[ComparisonMessage]) -> Recommendation:
        if self.recommender is None:
            seen = [c.confidence for c in window if c.kind == "machine" and c.confidence is not None]
            self.recommender = recommender_for(self.cfg, candidates_at_rates(seen or [0.5], GRID_RATES))
            self.state = self.recommender.initial()
        assert self.state is not None
        recommendation = None
        for group, max_weight in weight_bounds(window, {}, 1.0 / self.cfg.audit_floor):
            machine = [observation(c) for c in group if c.kind == "machine"]
            people = [observation(c) for c in group if c.kind == "consensus"]
            self.state, recommendation = self.recommender.update(self.state, machine, people, max_weight=max_weight)
        assert recommendation is not None
        return recommendation


def recommender_for(cfg: PipelineConfig, candidates: tuple[float, ...]) -> Recommender:
    return Recommender(RecommenderConfig(target=cfg.target, alpha=cfg.alpha, audit_floor=cfg.audit_floor,
                                         candidates=candidates, guardrails=Guardrails(max_step=MaxStep(cfg.max_step))))


def register(app: Any, topics: Topics, cfg: PipelineConfig, bootstrap: str, comparisons_topic: str,
             positions: ReadPositions | None = None) -> Any:
    """The aggregator task; its read positions go to ``positions`` (its consumer lag: it has no group)."""
    derived = [Derived(cfg)]
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
            log.info("aggregator: catching up on %d comparisons", sum(catch_up.values()))
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
                recommendations = derived[0].add(batch)
                metrics.counted(batch)
                if positions is not None:
                    for tp in tps:
                        positions.set(tp.topic, tp.partition, await consumer.position(tp))
                for tp in list(catch_up):
                    if await consumer.position(tp) >= catch_up[tp]:
                        del catch_up[tp]
                if catch_up:
                    continue  # catching up silently: what was published before stays as it was
                if not caught_up:  # once after the catch-up, every stratum's stats as they stand
                    caught_up.append(True)
                    await _emit(topics, derived[0], sorted(derived[0].folds), recommendations, cfg)
                elif batch:
                    await _emit(topics, derived[0], {c.stratum for c in batch}, recommendations, cfg)
                await app.producer.flush()
        finally:
            await consumer.stop()

    return aggregate


async def _partitions(consumer: Any, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # the first metadata may not list the topic yet
    return set(consumer.partitions_for_topic(topic) or ())


async def _emit(topics: Topics, derived: Derived, strata: Iterable[str],
                recommendations: list[Recommendation], cfg: PipelineConfig) -> None:
    now = time.time()
    for stratum in sorted(strata):
        stats = derived.folds[stratum].stats(stratum, target=cfg.target, alpha=cfg.alpha, time=now)
        metrics.stats(stats)
        await topics.out.agreement_stats.send(key=stratum.encode(), value=encode(stats))
    for recommendation in recommendations:
        await _publish(topics, derived, recommendation, cfg, now)


async def _publish(topics: Topics, derived: Derived, rec: Recommendation, cfg: PipelineConfig, now: float) -> None:
    message = recommendation_message(rec, now)
    metrics.recommendation(message)
    await topics.out.recommendations.send(key=ALL.encode(), value=encode(message))
    if cfg.auto_apply and rec.policy.version != derived.published:
        derived.published = rec.policy.version
        await topics.out.policies.send(key=b"policy", value=encode(policy_message(rec, now)))
