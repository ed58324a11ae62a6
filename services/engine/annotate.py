"""The automation step: frame messages in, the engine's annotations out as automation-results messages."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from services.engine.frame_refs import resolve_frame
from services.engine.frames import Frame
from services.engine.results import AutomationResult
from services.engine.runner import TorchRunner
from services.loop.messages.frames import AutomationMessage, FrameMessage
from services.loop.messages.geometry import Shape


def annotate(runner: TorchRunner, messages: Sequence[FrameMessage]) -> list[AutomationMessage]:
    """Run the engine on the referenced frames; a frame that cannot be loaded or annotated carries ``error``."""
    frames = [_load(m) for m in messages]
    results = runner.infer(frames)
    now = time.time()
    return [_message(m, r, now) for m, r in zip(messages, results, strict=True)]


def _load(m: FrameMessage) -> Frame:
    try:
        return resolve_frame(m.image, m.seq)
    except Exception as exc:  # any unreadable reference fails this frame only
        return Frame(m.seq, None, m.image, error=f"{m.image}: {exc}")


def _message(m: FrameMessage, r: AutomationResult, now: float) -> AutomationMessage:
    return automation_message(r, frame_id=m.frame_id, seq=m.seq, image=m.image, stratum=m.stratum, time=now)


def automation_message(r: AutomationResult, *, frame_id: str, seq: int, image: str, stratum: str,
                       time: float) -> AutomationMessage:
    """The engine's result for one frame as the automation worker sends it (a failed frame carries ``error``)."""
    ok = r.error is None
    return AutomationMessage(
        frame_id=frame_id, seq=seq, image=image, stratum=stratum, time=time, model_version=r.model_version,
        confidence=r.confidence if ok and math.isfinite(r.confidence) else None,
        geometries=[Shape(r.GEOMETRY, v) for v in r.geometry_values()] if ok else [],
        category_ids=r.category_ids.tolist() if ok else [], scores=[min(1.0, float(s)) for s in r.scores.tolist()]
        if ok else [], tags=dict(r.tags), tag_scores={k: float(v) for k, v in r.tag_scores.items()},
        inference_ms=float(r.inference_ms), error=r.error,
    )
