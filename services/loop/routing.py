"""Routing one machine-annotated frame: blind manual tasks (with π) or a delivery."""

from __future__ import annotations

import math

from analysis.policy.automation import FrameInfo
from analysis.sampling import Decision, Router, RouterState
from services.loop.messages.clips import TaskClip
from services.loop.messages.frames import AutomationMessage, Delivery
from services.loop.messages.manual import ManualTask, task_id


def route(
    router: Router, state: RouterState, m: AutomationMessage, now: float
) -> tuple[RouterState, list[ManualTask], Delivery | None]:
    """The router's decision as messages. A frame the engine failed on goes to people (π = 1)."""
    state, decision = decide(router, state, m)
    tasks, delivery = routed(decision, m, now)
    return state, tasks, delivery


def decide(router: Router, state: RouterState, m: AutomationMessage) -> tuple[RouterState, Decision]:
    """The router's decision on one machine-annotated frame (a failed frame has no confidence: π = 1)."""
    return router.route(state, frame_info(m))


def frame_info(m: AutomationMessage) -> FrameInfo:
    """What the router and the automation policy see of a frame (a failed frame: confidence NaN)."""
    confidence = math.nan if m.error is not None or m.confidence is None else m.confidence
    return FrameInfo(m.frame_id, confidence, m.stratum, m.model_version, m.time)


def routed(decision: Decision, m: AutomationMessage, now: float) -> tuple[list[ManualTask], Delivery | None]:
    """``decision`` as messages: blind manual tasks (with π), or the delivery of the machine's annotation."""
    if decision.route == "ship":
        delivery = Delivery(
            frame_id=m.frame_id, seq=m.seq, model_version=m.model_version, policy_version=decision.policy_version,
            inclusion_prob=decision.inclusion_prob, time=now, geometries=m.geometries, category_ids=m.category_ids,
            scores=m.scores, tags=m.tags, clip=None if m.clip is None else m.clip.final,
        )
        return [], delivery
    tasks = [
        ManualTask.model_validate({
            "task_id": task_id(m.frame_id, copy), "frame_id": m.frame_id, "seq": m.seq, "image": m.image,
            "copy": copy, "inclusion_prob": decision.inclusion_prob, "consensus_prob": decision.consensus_prob,
            "policy_version": decision.policy_version, "copies": decision.copies, "stratum": m.stratum,
            "time": now, "clip": _task_clip(m),
        })
        for copy in range(1, decision.copies + 1)
    ]
    return tasks, None


def _task_clip(m: AutomationMessage) -> TaskClip | None:
    """A clip task lists the clip's frames, and nothing of the machine's output."""
    return None if m.clip is None else TaskClip(video_id=m.clip.video_id, frames=m.clip.frames)
