"""Router agent: ``automation-results`` → ``manual-queue`` (blind tasks with π) or ``deliveries``.

The policy in force is the latest record of ``policies``, read on every worker
through a global table; decisions hash (frame id, salt), so a replay of the
same results under the same policies routes identically.
"""

from __future__ import annotations

import math
import time
from typing import Any

import orjson

from analysis.policy.automation import AutomationPolicy
from analysis.sampling import AuditFloor, ConfidenceWeighted, Router, RouterState
from services.messages import AutomationMessage, InvalidMessage, decode, encode
from services.pipeline.routing import route
from streams.config import PipelineConfig
from streams.errors import DeadLetters
from streams.topics import Topics

POLICY_KEY = b"policy"


def policy_from(raw: bytes | None) -> AutomationPolicy:
    """The automation policy a ``policies`` record holds (none yet: nothing ships)."""
    if raw is None:
        return AutomationPolicy()
    doc = orjson.loads(raw)
    default = math.inf if doc["default"] is None else float(doc["default"])
    thresholds = {k: math.inf if v is None else float(v) for k, v in doc["thresholds"].items()}
    return AutomationPolicy(default=default, thresholds=thresholds, version=int(doc["version"]))


def make_router(cfg: PipelineConfig, policy: AutomationPolicy) -> Router:
    return Router(policy, ConfidenceWeighted(scale=cfg.audit_scale, floor=cfg.audit_floor),
                  consensus_share=cfg.consensus_share, floor=AuditFloor(cfg.audit_floor), salt=cfg.salt)


def register(app: Any, topics: Topics, dead: DeadLetters, cfg: PipelineConfig, policies: Any) -> Any:
    state = [RouterState()]

    @app.agent(topics.automation_results, name="router")
    async def router(stream: Any) -> None:
        async for event in stream.events():
            try:
                message = decode(AutomationMessage, event.message.value)
            except InvalidMessage as exc:
                await dead.reject(event, exc.reason, "router")
                continue
            policy = policy_from(policies.get(POLICY_KEY))
            state[0], tasks, delivery = route(make_router(cfg, policy), state[0], message, time.time())
            for task in tasks:
                await topics.manual_queue.send(key=task.frame_id.encode(), value=encode(task))
            if delivery is not None:
                await topics.deliveries.send(key=delivery.frame_id.encode(), value=encode(delivery))

    return router
