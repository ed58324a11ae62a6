"""Comparing clips: the chain's tracks against a person's, and a second person's against the first.

A clip's machine comparison judges the chain's last step under the clip spec (track rules on its tracking
metrics, frame rules on each of its frames, :mod:`analysis.tracking.clip_spec`): ``accepted`` is what the
aggregator, the gate and the recommender count, exactly as a frame's. It also judges every earlier step under
the same spec and attributes each of the final output's errors to the step that introduced it
(:func:`analysis.tracking.attribution.attribute_chain`), so the aggregator can say which step limits the chain.
Boxes of a step with track ids that carry no track id are left out of its tracks (``engine eval``'s default
rule); a step without ids (a detector) is judged box by box and fails any track rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from analysis.annotations.columns import FrameColumns
from analysis.tracking import Tracks, track_metrics
from analysis.tracking.attribution import StepTracks, attribute_chain
from analysis.tracking.attribution_results import StepAttribution
from analysis.tracking.clip_spec import ClipAcceptanceSpec, ClipJudgement, judge_clip
from analysis.tracking.metrics import TrackMetrics
from services.loop.compare import frame_counts, people_columns
from services.loop.context import CompareContext
from services.loop.messages.clips import ClipTracking, StepClip, StepFrame, StepVerdict
from services.loop.messages.decisions import ComparisonMessage
from services.loop.messages.frames import AutomationMessage
from services.loop.messages.geometry import V1_BOX
from services.loop.messages.manual import AnnotatedFrame, ManualAnnotation

IOU_THRESHOLD = 0.5  # a box matches a person's when IoU >= this (track_metrics' and engine eval's default)
Pair = tuple[AutomationMessage, ManualAnnotation]
HumanPair = tuple[ManualAnnotation, ManualAnnotation]  # (copy 2, copy 1)


class ClipMismatchError(ValueError):
    """A clip's two sides do not describe the same clip (a defect upstream, not a disagreement)."""


def compare_machine_clips(pairs: Sequence[Pair], ctx: CompareContext) -> list[ComparisonMessage]:
    """One ``machine`` comparison per (chain's clip, copy-1 annotation of it) pair."""
    return [_machine(m, h, ctx) for m, h in pairs]


def compare_people_clips(pairs: Sequence[HumanPair], ctx: CompareContext) -> list[ComparisonMessage]:
    """One ``consensus`` comparison per (copy 2, copy 1) pair of a clip: the human-vs-human floor."""
    out = []
    for other, first in pairs:
        spec, n = _spec(ctx), _frames(first)
        truth, theirs = person_tracks(first, n), person_tracks(other, n)
        metrics = track_metrics(truth, theirs, iou_threshold=IOU_THRESHOLD)
        judged = judge_clip(spec, metrics, _frame_flags(spec, ctx, _person_columns(other, n),
                                                        _person_columns(first, n)))
        out.append(ComparisonMessage(
            frame_id=first.frame_id, kind="consensus", accepted=judged.accepted, inclusion_prob=first.consensus_prob,
            stratum=first.stratum, confidence=None, model_version="people", time=max(first.time, other.time),
            tp=metrics.clear.num_matches + metrics.clear.num_switches, fp=metrics.clear.num_false_positives,
            fn=metrics.clear.num_misses, mean_iou=_unit(metrics.clear.mean_match_iou),
            policy_version=first.policy_version, tracking=_tracking(judged, metrics)))
    return out


def _machine(m: AutomationMessage, h: ManualAnnotation, ctx: CompareContext) -> ComparisonMessage:
    assert m.clip is not None
    spec, n = _spec(ctx), len(m.clip.frames)
    if _frames(h) != n:
        raise ClipMismatchError(f"clip {m.frame_id}: the machine has {n} frames, the annotation {_frames(h)}")
    truth, manual = person_tracks(h, n), _person_columns(h, n)
    steps = [step_tracks(s, n) for s in m.clip.steps]
    attribution = attribute_chain(truth, steps, iou_threshold=IOU_THRESHOLD)
    judged = [_judge(spec, ctx, truth, s, clip, manual) for s, clip in zip(steps, m.clip.steps, strict=True)]
    final, metrics = judged[-1]
    counts = attribution.steps[-1].figures
    return ComparisonMessage(
        frame_id=h.frame_id, kind="machine", accepted=final.accepted, inclusion_prob=h.inclusion_prob,
        stratum=h.stratum, confidence=m.confidence, model_version=m.model_version, time=max(m.time, h.time),
        tp=counts.matched, fp=counts.false_positives, fn=counts.misses,
        mean_iou=None if metrics is None else _unit(metrics.clear.mean_match_iou),
        policy_version=h.policy_version, tracking=_tracking(final, metrics),
        steps=[_verdict(a, j.accepted) for a, (j, _) in zip(attribution.steps, judged, strict=True)])


def _judge(spec: ClipAcceptanceSpec, ctx: CompareContext, truth: Tracks, step: StepTracks, clip: StepClip,
           manual: FrameColumns) -> tuple[ClipJudgement, TrackMetrics | None]:
    metrics = track_metrics(truth, step.tracks, iou_threshold=IOU_THRESHOLD) if step.has_ids else None
    return judge_clip(spec, metrics, _frame_flags(spec, ctx, _step_columns(clip, len(manual.counts)), manual)), \
        metrics


def _frame_flags(spec: ClipAcceptanceSpec, ctx: CompareContext, automation: FrameColumns,
                 manual: FrameColumns) -> list[bool] | None:
    """Each frame's acceptance under the spec's frame rules, as the comparator judges a frame (None: no rules)."""
    if spec.frames is None:
        return None
    return frame_counts(automation, manual, CompareContext(ctx.categories, spec.frames, geometry=ctx.geometry))[0]


def _spec(ctx: CompareContext) -> ClipAcceptanceSpec:
    return ctx.clip_spec if ctx.clip_spec is not None else ClipAcceptanceSpec(frames=ctx.spec)


def _frames(a: ManualAnnotation) -> int:
    """The number of frames the annotation covers: its last frame index + 1 (a clip task's answer lists each)."""
    return max((f.frame_index for f in a.clip_frames or ()), default=-1) + 1


def person_tracks(a: ManualAnnotation, num_frames: int) -> Tracks:
    """A person's clip annotation as tracks (boxes only; every object carries the person's track id)."""
    rows = [(f.frame_index, o) for f in a.clip_frames or () for o in f.objects]
    for _, o in rows:
        _box_only(o.geometry.kind, a.frame_id)
    return Tracks.from_arrays(
        num_frames=num_frames, frame=np.array([k for k, _ in rows], np.int64),
        track_id=np.array([o.track_id for _, o in rows], np.int64),
        boxes=np.array([o.geometry.value for _, o in rows], np.float64).reshape(len(rows), 4),
        category=np.array([o.category_id for _, o in rows], np.int64), source=f"{a.annotator} on {a.frame_id}")


def step_tracks(step: StepClip, num_frames: int) -> StepTracks:
    """One step's output on the clip as tracks; a step with ids drops its boxes without one, a step without ids
    has each box as a track of its own."""
    frame, ids, boxes, category, score = [], [], [], [], []
    fresh = 0
    for f in step.frames:
        for shape, track, c, s in zip(f.geometries, f.track_ids, f.category_ids, f.scores, strict=True):
            _box_only(shape.kind, step.name)
            if track < 0 and step.has_ids:
                continue
            fresh += int(track < 0)
            frame.append(f.frame_index)
            ids.append(track if track >= 0 else -fresh)
            boxes.append(shape.value)
            category.append(c)
            score.append(s)
    tracks = Tracks.from_arrays(num_frames=num_frames, frame=np.array(frame, np.int64),
                                track_id=np.array(ids, np.int64), boxes=np.array(boxes, np.float64).reshape(-1, 4),
                                category=np.array(category, np.int64), confidence=np.array(score, np.float64),
                                source=f"step {step.name}")
    return StepTracks(step.name, tracks, step.has_ids)


def _step_columns(step: StepClip, num_frames: int) -> FrameColumns:
    by_index: dict[int, StepFrame] = {f.frame_index: f for f in step.frames}
    frames = [by_index.get(k) or StepFrame(frame_index=k) for k in range(num_frames)]
    kept = [[i for i, t in enumerate(f.track_ids) if t >= 0 or not step.has_ids] for f in frames]
    shapes = [f.geometries[i] for f, keep in zip(frames, kept, strict=True) for i in keep]
    return FrameColumns(
        counts=[len(keep) for keep in kept], kinds=[g.kind for g in shapes], values=[g.value for g in shapes],
        category_ids=[f.category_ids[i] for f, keep in zip(frames, kept, strict=True) for i in keep],
        scores=[f.scores[i] for f, keep in zip(frames, kept, strict=True) for i in keep],
        tags=[{} for _ in frames])


def _person_columns(a: ManualAnnotation, num_frames: int) -> FrameColumns:
    by_index: dict[int, AnnotatedFrame] = {f.frame_index: f for f in a.clip_frames or ()}
    frames = [by_index.get(k) or AnnotatedFrame(frame_index=k, objects=[]) for k in range(num_frames)]
    return people_columns([f.objects for f in frames], [{} for _ in frames])


def _tracking(judged: ClipJudgement, metrics: TrackMetrics | None) -> ClipTracking:
    m = metrics
    return ClipTracking(
        frames=judged.frames or (0 if m is None else m.num_frames), frames_accepted=judged.frames_accepted,
        mota=None if m is None else _finite(m.clear.mota), motp=None if m is None else _finite(m.clear.motp),
        idf1=None if m is None else _unit(m.identity.idf1), hota=None if m is None else _unit(m.hota.hota),
        id_switches=0 if m is None else m.clear.num_switches,
        fragmentations=0 if m is None else m.clear.num_fragmentations, reasons=list(judged.reasons))


def _verdict(a: StepAttribution, accepted: bool) -> StepVerdict:
    f, t = a.figures, a.attributed
    return StepVerdict(name=a.name, accepted=accepted, has_ids=f.has_ids, objects=f.objects,
                       predictions=f.predictions, matched=f.matched, switches=f.switches,
                       fragmentations=f.fragmentations, idtp=f.idtp, attributed_misses=t.misses,
                       attributed_false_positives=t.false_positives, attributed_switches=t.switches)


def _box_only(kind: str, where: str) -> None:
    if kind != V1_BOX:
        raise ClipMismatchError(f"{where}: clips are compared as box tracks ({V1_BOX}), got a {kind!r} geometry")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _unit(value: float) -> float | None:
    return min(1.0, max(0.0, value)) if math.isfinite(value) else None
