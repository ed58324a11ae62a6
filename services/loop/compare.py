"""Comparing frames in batches: machine vs the first person, and the second person vs the first.

A batch is compared with one call of the vectorised comparator, so the cost per
frame stays small however the frames arrive; results do not depend on how
frames are batched, which is what lets an offline replay of a snapshot equal
the online comparator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.compare import Comparator, CompareOptions
from services.loop.context import CompareContext
from services.loop.messages.decisions import ComparisonMessage
from services.loop.messages.frames import AutomationMessage
from services.loop.messages.manual import ManualAnnotation

Pair = tuple[AutomationMessage, ManualAnnotation]
HumanPair = tuple[ManualAnnotation, ManualAnnotation]  # (copy 2, copy 1)


def compare_machine(pairs: Sequence[Pair], ctx: CompareContext) -> list[ComparisonMessage]:
    """One ``machine`` comparison per (machine annotation, copy-1 annotation) pair."""
    if not pairs:
        return []
    manual = _ground_truth([p[1] for p in pairs], ctx)
    automation = {"annotations": [rec for m, h in pairs for rec in _machine_records(m, h.seq)],
                  "images": [_machine_image(m, h.seq) for m, h in pairs]}
    accepted, tp, fp, fn, iou = _compare(automation, manual, ctx)
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
    manual = _ground_truth([p[1] for p in pairs], ctx)
    second = _ground_truth([p[0] for p in pairs], ctx)
    accepted, tp, fp, fn, iou = _compare(second, manual, ctx)
    return [
        ComparisonMessage(
            frame_id=first.frame_id, kind="consensus", accepted=accepted[i], inclusion_prob=first.consensus_prob,
            stratum=first.stratum, confidence=None, model_version="people", time=max(first.time, other.time),
            tp=tp[i], fp=fp[i], fn=fn[i], mean_iou=iou[i], policy_version=first.policy_version,
        )
        for i, (other, first) in enumerate(pairs)
    ]


def _ground_truth(annotations: Sequence[ManualAnnotation], ctx: CompareContext) -> dict[str, Any]:
    records: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for a in annotations:
        images.append({"id": a.seq, "tags": dict(a.tags)})
        for obj in a.objects:
            x, y, w, h = obj.bbox
            record: dict[str, Any] = {"id": len(records) + 1, "image_id": a.seq, "category_id": obj.category_id,
                                      "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0}
            if obj.attributes:
                record["attributes"] = dict(obj.attributes)
            records.append(record)
    return {"images": images, "annotations": records, "categories": list(ctx.categories)}


def _machine_records(m: AutomationMessage, seq: int) -> list[dict[str, Any]]:
    return [{"image_id": seq, "category_id": c, "bbox": list(b), "score": s}
            for b, c, s in zip(m.boxes, m.category_ids, m.scores, strict=True)]


def _machine_image(m: AutomationMessage, seq: int) -> dict[str, Any]:
    image: dict[str, Any] = {"id": seq, "model_version": m.model_version, "tags": dict(m.tags)}
    if m.confidence is not None:
        image["confidence"] = m.confidence
    return image


Counts = tuple[list[bool], list[int], list[int], list[int], list[float | None]]


def _compare(automation_doc: dict[str, Any], manual_doc: dict[str, Any], ctx: CompareContext) -> Counts:
    manual = parse_ground_truth(manual_doc, "manual-annotations")
    automation = parse_automation(automation_doc, "automation-results", manual)
    frames = Comparator(CompareOptions(spec=ctx.spec)).calculate(automation, manual).frames
    iou = [None if math.isnan(v) else min(1.0, v) for v in frames.mean_iou.tolist()]
    return frames.accepted.tolist(), frames.tp.tolist(), frames.fp.tolist(), frames.fn.tolist(), iou


Kind = Literal["machine", "consensus"]
