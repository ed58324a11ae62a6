"""Comparing frames in batches: machine vs the first person, and the second person vs the first.

A batch is compared with one call of the vectorised comparator, so the cost per
frame stays small however the frames arrive; results do not depend on how
frames are batched, which is what lets an offline replay of a snapshot equal
the online comparator. Decoded messages go straight into the annotation model:
each object's tagged geometry was read once, when its message was decoded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np

from analysis.annotations.coco_frames import parse_categories
from analysis.annotations.columns import FrameColumns, annotations_of, frames_of, shared_kind
from analysis.compare import Comparator, CompareOptions, Comparison
from analysis.matching import MatchOptions
from services.loop.context import CompareContext
from services.loop.messages.decisions import ComparisonMessage
from services.loop.messages.frames import AutomationMessage
from services.loop.messages.manual import AnnotatedObject, ManualAnnotation

Pair = tuple[AutomationMessage, ManualAnnotation]
HumanPair = tuple[ManualAnnotation, ManualAnnotation]  # (copy 2, copy 1)


def compare_machine(pairs: Sequence[Pair], ctx: CompareContext) -> list[ComparisonMessage]:
    """One ``machine`` comparison per (machine annotation, copy-1 annotation) pair."""
    if not pairs:
        return []
    accepted, tp, fp, fn, iou = frame_counts(_machine([m for m, _ in pairs]), _people([h for _, h in pairs]), ctx)
    return [
        ComparisonMessage(
            frame_id=h.frame_id, kind="machine", accepted=accepted[i], inclusion_prob=h.inclusion_prob,
            stratum=h.stratum, confidence=m.confidence, model_version=m.model_version, time=max(m.time, h.time),
            tp=tp[i], fp=fp[i], fn=fn[i], mean_iou=iou[i], policy_version=h.policy_version,
        )
        for i, (m, h) in enumerate(pairs)
    ]


def compare_people(pairs: Sequence[HumanPair], ctx: CompareContext) -> list[ComparisonMessage]:
    """One ``consensus`` comparison per (copy 2, copy 1) pair: the human-vs-human floor."""
    if not pairs:
        return []
    other = _people([p[0] for p in pairs], scored=True)
    accepted, tp, fp, fn, iou = frame_counts(other, _people([p[1] for p in pairs]), ctx)
    return [
        ComparisonMessage(
            frame_id=first.frame_id, kind="consensus", accepted=accepted[i], inclusion_prob=first.consensus_prob,
            stratum=first.stratum, confidence=None, model_version="people", time=max(first.time, other.time),
            tp=tp[i], fp=fp[i], fn=fn[i], mean_iou=iou[i], policy_version=first.policy_version,
        )
        for i, (other, first) in enumerate(pairs)
    ]


def _people(annotations: Sequence[ManualAnnotation], *, scored: bool = False) -> FrameColumns:
    return people_columns([a.objects for a in annotations], [dict(a.tags) for a in annotations], scored=scored)


def people_columns(
    frames: Sequence[Sequence[AnnotatedObject]], tags: Sequence[dict[str, str]], *, scored: bool = False,
) -> FrameColumns:
    """People's objects and tags, frame by frame, as the comparator's columns. ``scored``: a person compared
    in the machine's place (a consensus copy) is sure of every object (score 1), which matching by score
    order (a spec's ``match: centre``) needs; matching by overlap reads no score."""
    objects = [o for f in frames for o in f]
    return FrameColumns(
        counts=[len(f) for f in frames], kinds=[o.geometry.kind for o in objects],
        values=[o.geometry.value for o in objects], category_ids=[o.category_id for o in objects],
        tags=list(tags), attributes=[dict(o.attributes) or None for o in objects],
        scores=[1.0] * len(objects) if scored else None,
    )


def _machine(results: Sequence[AutomationMessage]) -> FrameColumns:
    shapes = [g for m in results for g in m.geometries]
    return FrameColumns(
        counts=[len(m.geometries) for m in results], kinds=[g.kind for g in shapes], values=[g.value for g in shapes],
        category_ids=[c for m in results for c in m.category_ids], scores=[s for m in results for s in m.scores],
        tags=[dict(m.tags) for m in results], confidence=[m.confidence for m in results],
        model_version=[m.model_version for m in results],
    )


Counts = tuple[list[bool], list[int], list[int], list[int], list[float | None]]


def frame_counts(automation_side: FrameColumns, manual_side: FrameColumns, ctx: CompareContext) -> Counts:
    """Per frame: accepted, TP, FP, FN and mean IoU of ``automation_side`` against ``manual_side``."""
    images, categories = frames_of(len(manual_side.counts)), parse_categories(list(ctx.categories), "categories")
    kind = shared_kind((automation_side, manual_side), ctx.geometry)
    manual = annotations_of(manual_side, images, categories, kind=kind, source="manual-annotations")
    automation = annotations_of(automation_side, images, categories, kind=kind, source="automation-results")
    options = CompareOptions(matching=MatchOptions(geometry=kind), spec=ctx.spec)
    frames = Comparator(options).frame_agreement(automation, manual)
    iou = [None if math.isnan(v) else min(1.0, v) for v in frames.mean_iou.tolist()]
    return frames.accepted.tolist(), frames.tp.tolist(), frames.fp.tolist(), frames.fn.tolist(), iou


def machine_comparison(pairs: Sequence[Pair], ctx: CompareContext) -> Comparison:
    """The whole comparison of the machine against the first person over ``pairs`` (per class, per stratum, per
    frame), each frame weighted by its 1/π; frame ``i`` of the result is ``pairs[i]``."""
    images = frames_of(len(pairs))
    images = replace(images, inclusion_prob=np.array([h.inclusion_prob for _, h in pairs], dtype=np.float64))
    machine, people = _machine([m for m, _ in pairs]), _people([h for _, h in pairs])
    categories = parse_categories(list(ctx.categories), "categories")
    kind = shared_kind((machine, people), ctx.geometry)
    manual = annotations_of(people, images, categories, kind=kind, source="manual-annotations")
    automation = annotations_of(machine, images, categories, kind=kind, source="automation-results")
    options = CompareOptions(matching=MatchOptions(geometry=kind), spec=ctx.spec)
    return Comparator(options).calculate(automation, manual)


Kind = Literal["machine", "consensus"]
