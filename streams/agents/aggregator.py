"""Aggregator and recommender: ``comparisons`` → ``agreement-stats``, ``recommendations`` and ``policies``.

Comparisons are counted once per (frame, kind) — a table of counted keys,
co-partitioned with ``comparisons``, drops a replayed duplicate — and then
funnelled through one internal partition, where per-stratum folds
(``services/pipeline/aggregate.py``) and the recommender's state live in
changelog-backed tables. Recommendations are emitted every few seconds; with
auto-apply on, a changed policy is published to ``policies``, which the router
reads.
"""

from __future__ import annotations

import time
from typing import Any

from analysis.observations import Observation
from analysis.policy.automation import ALL
from analysis.recommend import Guardrails, MaxStep, Recommendation, Recommender, RecommenderConfig
from analysis.recommend.serialize import state_from_dict, state_to_dict
from services.messages import ComparisonMessage, InvalidMessage, decode, encode
from services.pipeline.aggregate import StratumFold
from services.pipeline.recommend import policy_message, recommendation_message, weight_bounds
from streams.config import PipelineConfig
from streams.errors import DeadLetters
from streams.topics import Topics

STATE_KEY = b"recommender"


def register(app: Any, topics: Topics, dead: DeadLetters, cfg: PipelineConfig, partitions: int,
             internal_name: str) -> tuple[Any, Any]:
    counted = app.Table("aggregator-counted", default=None, partitions=partitions, key_serializer="raw",
                        value_serializer="json")
    funnel = app.topic(internal_name, partitions=1, internal=True, key_serializer="raw", value_serializer="raw")
    folds = app.Table("aggregator-folds", default=None, partitions=1, key_serializer="raw", value_serializer="json")
    memory = app.Table("recommender-state", default=None, partitions=1, key_serializer="raw",
                       value_serializer="json")
    recommender = Recommender(RecommenderConfig(target=cfg.target, alpha=cfg.alpha, audit_floor=cfg.audit_floor,
                                                guardrails=Guardrails(max_step=MaxStep(cfg.max_step))))
    last_emit = [0.0]

    @app.agent(topics.comparisons, name="count-once")
    async def count_once(stream: Any) -> None:
        async for event in stream.events():
            try:
                c = decode(ComparisonMessage, event.message.value)
            except InvalidMessage as exc:
                await dead.reject(event, exc.reason, "aggregator")
                continue
            key = f"{c.frame_id}/{c.kind}".encode()
            if counted.get(key) is not None:
                continue
            counted[key] = 1
            await funnel.send(key=ALL.encode(), value=event.message.value)

    @app.agent(funnel, name="aggregator")
    async def aggregator(stream: Any) -> None:
        async for events in stream.take_events(500, within=0.2):
            batch = [decode(ComparisonMessage, e.message.value) for e in events]
            now = time.time()
            for stats in _fold(folds, batch, cfg, now):
                await topics.agreement_stats.send(key=stats.stratum.encode(), value=encode(stats))
            recommendation = _recommend(memory, recommender, batch)
            if recommendation is not None and now - last_emit[0] >= cfg.recommend_every:
                last_emit[0] = now
                await _publish(topics, memory, recommendation, cfg, now)

    return count_once, aggregator


def _fold(folds: Any, batch: list[ComparisonMessage], cfg: PipelineConfig, now: float) -> list[Any]:
    touched: dict[str, StratumFold] = {}
    for c in batch:
        current = touched.get(c.stratum) or _fold_of(folds, c.stratum)
        touched[c.stratum] = current.add(c)
    out = []
    for stratum, fold in touched.items():
        folds[stratum.encode()] = fold.to_dict()
        out.append(fold.stats(stratum, target=cfg.target, alpha=cfg.alpha, time=now))
    return out


def _fold_of(folds: Any, stratum: str) -> StratumFold:
    doc = folds.get(stratum.encode())
    return StratumFold() if doc is None else StratumFold.from_dict(doc)


def _recommend(memory: Any, recommender: Recommender, batch: list[ComparisonMessage]) -> Recommendation | None:
    doc = memory.get(STATE_KEY)
    state = recommender.initial() if doc is None else state_from_dict(doc["state"])
    bounds = {} if doc is None else {int(k): v for k, v in doc["bounds"].items()}
    recommendation = None
    for group, max_weight in weight_bounds(batch, bounds, recommender.config.max_weight):
        machine = [_observation(c) for c in group if c.kind == "machine"]
        people = [_observation(c) for c in group if c.kind == "consensus"]
        state, recommendation = recommender.update(state, machine, people, max_weight=max_weight)
    memory[STATE_KEY] = {"state": state_to_dict(state), "bounds": {str(k): v for k, v in bounds.items()},
                         "published": None if doc is None else doc.get("published")}
    return recommendation


def _observation(c: ComparisonMessage) -> Observation:
    return Observation(c.frame_id, c.accepted, c.inclusion_prob, c.stratum,
                       float("nan") if c.confidence is None else c.confidence, c.model_version, c.time)


async def _publish(topics: Topics, memory: Any, rec: Recommendation, cfg: PipelineConfig, now: float) -> None:
    await topics.recommendations.send(key=ALL.encode(), value=encode(recommendation_message(rec, now)))
    doc = memory.get(STATE_KEY)
    if not cfg.auto_apply or doc is None or doc.get("published") == rec.policy.version:
        return
    policy = policy_message(rec, now)
    doc = {**doc, "published": rec.policy.version,
           "bounds": {**doc["bounds"], str(rec.policy.version): _bound(rec, cfg)}}
    memory[STATE_KEY] = doc
    await topics.policies.send(key=b"policy", value=encode(policy))


def _bound(rec: Recommendation, cfg: PipelineConfig) -> float:
    """1/π can reach 1/floor once anything may ship under this policy; 1 while nothing does."""
    ships = any(t != float("inf") for t in (rec.policy.default, *rec.policy.thresholds.values()))
    return 1.0 / cfg.audit_floor if ships else 1.0
