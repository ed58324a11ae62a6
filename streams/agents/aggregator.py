"""Aggregator and recommender: ``comparisons`` → ``agreement-stats``, ``recommendations`` and ``policies``.

``forward`` (any number of workers) validates comparisons and funnels them
into one internal partition; ``aggregator`` (whichever worker holds that
partition: one active, the others take over when it dies) counts each
(frame, kind) once. Its only persisted state is the changelog-backed table of
counted comparisons, in arrival order; the per-stratum folds
(``services/pipeline/aggregate.py``) and the recommender's state are derived
from it and rebuilt from it after a restart, so a record replayed after a
crash is recognised and dropped, and nothing counted is forgotten.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

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
from services.messages import ComparisonMessage, InvalidMessage, decode, encode
from services.pipeline.aggregate import StratumFold
from services.pipeline.recommend import observation, policy_message, recommendation_message, weight_bounds
from streams.config import PipelineConfig
from streams.errors import DeadLetters
from streams.topics import Topics, raw_schema


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


def register(app: Any, topics: Topics, dead: DeadLetters, cfg: PipelineConfig, internal_name: str) -> tuple[Any, Any]:
    funnel = app.topic(internal_name, partitions=1, internal=True, key_serializer="raw", value_serializer="raw")
    counted = app.Table("aggregator-counted", default=None, partitions=1, schema=raw_schema("json"),
                        use_partitioner=True)
    derived = [Derived(cfg)]

    @app.agent(topics.comparisons, name="forward")
    async def forward(stream: Any) -> None:
        async for events in stream.take_events(500, within=0.05):
            for event in events:
                try:
                    decode(ComparisonMessage, event.message.value)
                except InvalidMessage as exc:
                    await dead.reject(event, exc.reason, "aggregator")
                    continue
                await funnel.send(key=ALL.encode(), value=event.message.value)
            await app.producer.flush()

    @app.agent(funnel, name="aggregator")
    async def aggregator(stream: Any) -> None:
        async for events in stream.take_events(500, within=0.1):
            if len(counted) != derived[0].counted:  # after a restart or a reassignment
                derived[0] = _rebuild(counted, cfg)
            fresh = _count_once(counted, [decode(ComparisonMessage, e.message.value) for e in events])
            recommendations = derived[0].add(fresh)
            now = time.time()
            for stratum in sorted({c.stratum for c in fresh}):
                stats = derived[0].folds[stratum].stats(stratum, target=cfg.target, alpha=cfg.alpha, time=now)
                await topics.agreement_stats.send(key=stratum.encode(), value=encode(stats))
            for recommendation in recommendations:
                await _publish(topics, derived[0], recommendation, cfg, now)
            await app.producer.flush()

    return forward, aggregator


def _count_once(counted: Any, batch: list[ComparisonMessage]) -> list[ComparisonMessage]:
    """The comparisons of ``batch`` not counted before, recorded with their arrival number."""
    fresh = []
    for c in batch:
        key = f"{c.frame_id}/{c.kind}".encode()
        if counted.get(key) is not None:
            continue
        counted[key] = {"seq": len(counted), "comparison": c.model_dump(mode="json", by_alias=True)}
        fresh.append(c)
    return fresh


def _rebuild(counted: Any, cfg: PipelineConfig) -> Derived:
    entries = sorted(counted.values(), key=lambda doc: doc["seq"])
    derived = Derived(cfg)
    derived.add([ComparisonMessage.model_validate(doc["comparison"]) for doc in entries])
    return derived


async def _publish(topics: Topics, derived: Derived, rec: Recommendation, cfg: PipelineConfig, now: float) -> None:
    await topics.recommendations.send(key=ALL.encode(), value=encode(recommendation_message(rec, now)))
    if cfg.auto_apply and rec.policy.version != derived.published:
        derived.published = rec.policy.version
        await topics.policies.send(key=b"policy", value=encode(policy_message(rec, now)))
