"""Router agent: ``automation-results`` → ``manual-queue`` (blind tasks with π) or ``deliveries``.

The policy in force is the latest record of ``policies`` (``streams/policies.py``);
decisions hash (frame id, salt), so a replay of the same results under the
same policies routes identically. A sampling policy that learns (Neyman
allocation) is given the per-stratum evidence each policy record carries, with
the frames per stratum the new policy would ship among the last frames this
worker saw (``RecentFrames``; with several router workers, each its share: the
allocation uses their proportions).
"""

from __future__ import annotations

import time
from typing import Any

from analysis.sampling import Router, RouterState
from analysis.sampling.evidence import RecentFrames, evidence
from services.loop.build import build_router
from services.loop.messages import AutomationMessage, InvalidMessage, decode, encode
from services.loop.routing import frame_info, route
from streams import metrics
from streams.config import PipelineConfig
from streams.errors import DeadLetters
from streams.policies import PolicyFollower
from streams.topics import Topics


def register(app: Any, topics: Topics, dead: DeadLetters, cfg: PipelineConfig, policies: PolicyFollower) -> Any:
    state = [RouterState()]
    router_now: list[Router] = [build_router(cfg.loop, policies.current)]
    recent = RecentFrames()  # the last frames this worker saw, eligible or not

    def current() -> Router:
        """The router under the policy in force (rebuilt only when a policy record arrived), its sampling given
        the record's evidence and the recent frames that policy would ship."""
        if router_now[0].policy is not policies.current:
            learnt = evidence(policies.evidence, recent.eligible(policies.current))
            router_now[0] = build_router(cfg.loop, policies.current).with_evidence(learnt)
        return router_now[0]

    @app.task
    async def follow_policies() -> None:
        await policies.run()

    @app.agent(topics.automation_results, name="router")
    async def router(stream: Any) -> None:
        await policies.caught_up.wait()
        async for events in stream.take_events(cfg.route_batch, within=cfg.batch_within):
            for event in events:
                try:
                    message = decode(AutomationMessage, event.message.value)
                except InvalidMessage as exc:
                    await dead.reject(event, exc.reason, "router")
                    continue
                try:
                    router = current()  # rebuilt from the frames before this one, as the replay's driver does
                    recent.add(frame_info(message))
                    state[0], tasks, delivery = route(router, state[0], message, time.time())
                except Exception as exc:  # the error policy: dead-letter it and go on
                    await dead.reject(event, f"processing failed: {type(exc).__name__}: {exc}", "router")
                    continue
                metrics.routed("ship" if delivery is not None else "manual", len(tasks))
                for task in tasks:
                    await topics.out.manual_queue.send(key=task.frame_id.encode(), value=encode(task))
                if delivery is not None:
                    await topics.out.deliveries.send(key=delivery.frame_id.encode(), value=encode(delivery))
            await app.producer.flush()  # delivered before the batch's offsets can be committed

    return router
