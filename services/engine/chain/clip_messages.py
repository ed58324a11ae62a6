"""A chain's outputs as the shadow loop's messages: one ``automation-results`` message per clip.

The clip is the loop's unit for a chain with a track step (:mod:`services.loop.messages.clips`): its message
carries every step's output on every frame of the clip, so the comparator can judge the final tracks and
attribute each error to the step that introduced it. The router samples on the clip's confidence, the lowest
of its frames' (a clip is as sure as its least sure frame), and its stratum comes from its tags, each the value
most of its frames have (the first such value on a tie).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from services.engine.chain.data import StepOutput, clips
from services.engine.results import AutomationResult
from services.loop.messages import AutomationMessage, ClipFrame, MachineClip, StepClip, StepFrame
from services.loop.messages.geometry import Shape

Outputs = Sequence[tuple[str, StepOutput]]


def clip_id(video_id: int) -> str:
    """The loop's id of clip ``video_id`` (its ``frame_id`` on every topic)."""
    return f"clip-{video_id}"


def clip_messages(outputs: Outputs, *, image_of: Callable[[int], str], stratum_of: Callable[[Mapping[str, str]], str],
                  time_of: Callable[[int], float]) -> list[AutomationMessage]:
    """One message per clip of ``outputs`` (each step's output, in chain order, over the same frames), clips by
    video id. ``image_of(frame id)``: where a frame's pixels are; ``stratum_of(tags)``: the clip's stratum;
    ``time_of(video id)``: when the clip arrived."""
    if not outputs:
        raise ValueError("a chain's outputs: at least one step")
    first = outputs[0][1]
    for name, output in outputs:
        if [f.frame_id for f in output.frames] != [f.frame_id for f in first.frames]:
            raise ValueError(f"step {name!r} has other frames than step {outputs[0][0]!r}")
    return [_message(positions, outputs, image_of, stratum_of, time_of) for positions in clips(first.frames)]


def _message(positions: list[int], outputs: Outputs, image_of: Callable[[int], str],
             stratum_of: Callable[[Mapping[str, str]], str], time_of: Callable[[int], float]) -> AutomationMessage:
    infos = [outputs[0][1].frames[i] for i in positions]
    video = infos[0].video_id
    final = [outputs[-1][1].results[i] for i in positions]
    tags = _majority([r.tags for r in final if r.ok])
    confidences = [r.confidence for r in final if r.ok and math.isfinite(r.confidence)]
    clip = MachineClip(
        video_id=video,
        frames=[ClipFrame(frame_id=str(f.frame_id), image=image_of(f.frame_id), frame_index=k)
                for k, f in enumerate(infos)],
        steps=[_step(name, [output.results[i] for i in positions]) for name, output in outputs])
    failed = [r.error for r in final if not r.ok]
    return AutomationMessage(
        frame_id=clip_id(video), seq=max(video, 0), image=clip.frames[0].image, stratum=stratum_of(tags),
        time=time_of(video), model_version=outputs[-1][1].model_version, confidence=min(confidences, default=None),
        geometries=[], category_ids=[], scores=[], tags=tags, tag_scores={},
        inference_ms=float(sum(r.inference_ms for _, o in outputs for r in (o.results[i] for i in positions))),
        error=failed[0] if len(failed) == len(final) else None, clip=clip)


def _step(name: str, results: list[AutomationResult]) -> StepClip:
    has_ids = any(r.ok and len(r.track_ids) for r in results)
    return StepClip(name=name, model_version=results[0].model_version, has_ids=has_ids,
                    frames=[_frame(k, r) for k, r in enumerate(results)])


def _frame(index: int, r: AutomationResult) -> StepFrame:
    if not r.ok:
        return StepFrame(frame_index=index)
    ids = r.track_ids.tolist() if len(r.track_ids) else [-1] * len(r.boxes)
    return StepFrame(frame_index=index, geometries=[Shape(r.GEOMETRY, tuple(b)) for b in r.boxes.tolist()],
                     category_ids=r.category_ids.tolist(), scores=[min(1.0, float(s)) for s in r.scores.tolist()],
                     track_ids=[int(t) for t in ids])


def _majority(tags: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Per tag, the value most frames have (ties: the value seen first)."""
    keys = list(dict.fromkeys(k for t in tags for k in t))
    return {k: Counter(t[k] for t in tags if k in t).most_common(1)[0][0] for k in keys}
