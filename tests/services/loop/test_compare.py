"""The compare step on decoded messages equals the COCO route it replaced (documents rebuilt and parsed again)."""

from __future__ import annotations

import math
import random
from typing import Any

import orjson
import pytest

from analysis.agreement import QualitySpec
from analysis.annotations import parse_automation, parse_ground_truth
from analysis.compare import Comparator, CompareOptions
from services.datasets.driving.coco import categories
from services.loop.compare import compare_machine, compare_people
from services.loop.context import CompareContext
from services.loop.messages import AutomationMessage, ManualAnnotation, decode
from tests.services.loop.messages.samples import sample, v1_sample

SPEC = QualitySpec.from_mapping({"min_height": 12, "max_missed": 1, "max_extra": 1, "attributes": ["occluded"],
                                 "tags": ["weather"], "classes": {"pedestrian": {"min_iou": 0.6}}}, "test spec")
CTX = CompareContext(tuple(categories()), SPEC)
IDS = [c["id"] for c in categories()]


def _box(rng: random.Random) -> list[float]:
    return [round(rng.uniform(0, 400), 1), round(rng.uniform(0, 300), 1), round(rng.uniform(2, 90), 1),
            round(rng.uniform(2, 90), 1)]


def _frame(rng: random.Random) -> tuple[list[Any], list[Any]]:
    """(machine objects, manual objects) as (box, category id, score or attributes)."""
    manual = [(_box(rng), rng.choice(IDS), {"occluded": rng.random() < 0.3}) for _ in range(rng.randint(0, 6))]
    machine = []
    for box, cid, _ in manual:
        if rng.random() < 0.8:
            jitter = [v + rng.uniform(-4, 4) for v in box[:2]] + [max(0.0, v + rng.uniform(-4, 4)) for v in box[2:]]
            machine.append((jitter, cid if rng.random() < 0.9 else rng.choice(IDS), round(rng.random(), 3)))
    machine += [(_box(rng), rng.choice(IDS), round(rng.random(), 3)) for _ in range(rng.randint(0, 2))]
    return machine, manual


def _messages(seed: int, version: int) -> list[tuple[AutomationMessage, ManualAnnotation]]:
    rng = random.Random(seed)
    out = []
    for f in range(40):
        machine, manual = _frame(rng)
        tags = {"weather": rng.choice(["rain", "sun"])}
        fid = f"f-{f}"
        if version == 1:
            m = v1_sample("automation-results", frame_id=fid, seq=f, boxes=[b for b, *_ in machine],
                          category_ids=[c for _, c, _ in machine], scores=[s for *_, s in machine], tags=tags)
            objects = [{"bbox": b, "category_id": c, "attributes": a} for b, c, a in manual]
            h = v1_sample("manual-annotations", frame_id=fid, task_id=f"{fid}/1", seq=f, objects=objects, tags=tags)
        else:
            m = sample("automation-results", frame_id=fid, seq=f, tags=dict(tags, weather=rng.choice(["rain", "sun"])),
                       geometries=[{"type": "box2d", "xywh": b} for b, *_ in machine],
                       category_ids=[c for _, c, _ in machine], scores=[s for *_, s in machine])
            objects = [{"geometry": {"type": "box2d", "xywh": b}, "category_id": c, "attributes": a}
                       for b, c, a in manual]
            h = sample("manual-annotations", frame_id=fid, task_id=f"{fid}/1", seq=f, objects=objects, tags=tags)
        out.append((decode(AutomationMessage, orjson.dumps(m)), decode(ManualAnnotation, orjson.dumps(h))))
    return out


def _coco_route(automation: Any, manual: Any) -> list[tuple[Any, ...]]:
    """What the comparator did before: COCO documents rebuilt from the messages, parsed, fully compared."""
    manual_doc = {"categories": categories(), "images": [{"id": a.seq, "tags": dict(a.tags)} for a in manual],
                  "annotations": []}
    for a in manual:
        for o in a.objects:
            x, y, w, h = o.geometry.value
            rec = {"id": len(manual_doc["annotations"]) + 1, "image_id": a.seq, "category_id": o.category_id,
                   "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0}
            if o.attributes:
                rec["attributes"] = dict(o.attributes)
            manual_doc["annotations"].append(rec)
    gt = parse_ground_truth(manual_doc, "manual")
    if isinstance(automation[0], AutomationMessage):
        doc: Any = {"images": [{"id": h.seq, "tags": dict(m.tags), "model_version": m.model_version}
                               for m, h in zip(automation, manual, strict=True)],
                    "annotations": [{"image_id": h.seq, "category_id": c, "bbox": list(g.value), "score": s}
                                    for m, h in zip(automation, manual, strict=True)
                                    for g, c, s in zip(m.geometries, m.category_ids, m.scores, strict=True)]}
        dt = parse_automation(doc, "automation", gt)
    else:
        dt = parse_automation(dict(_coco_route_doc(automation)), "second", gt)
    frames = Comparator(CompareOptions(spec=SPEC)).calculate(dt, gt).frames
    return [(bool(frames.accepted[i]), int(frames.tp[i]), int(frames.fp[i]), int(frames.fn[i]),
             None if math.isnan(frames.mean_iou[i]) else min(1.0, float(frames.mean_iou[i])))
            for i in range(len(manual))]


def _coco_route_doc(people: Any) -> dict[str, Any]:
    records = [{"id": k + 1, "image_id": a.seq, "category_id": o.category_id, "bbox": list(o.geometry.value),
                "area": o.geometry.value[2] * o.geometry.value[3], "iscrowd": 0,
                **({"attributes": dict(o.attributes)} if o.attributes else {})}
               for k, (a, o) in enumerate((a, o) for a in people for o in a.objects)]
    return {"categories": categories(), "images": [{"id": a.seq, "tags": dict(a.tags)} for a in people],
            "annotations": records}


def _counts(out: list[Any]) -> list[tuple[Any, ...]]:
    return [(c.accepted, c.tp, c.fp, c.fn, c.mean_iou) for c in out]


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("seed", range(4))
def test_machine_comparisons_equal_the_coco_route(seed: int, version: int) -> None:
    pairs = _messages(seed, version)
    ours = _counts(compare_machine(pairs, CTX))
    assert ours == _coco_route([m for m, _ in pairs], [h for _, h in pairs])
    assert len({c[0] for c in ours}) == 2 and sum(c[2] for c in ours) > 0  # both outcomes and some misses occur


@pytest.mark.parametrize("seed", range(3))
def test_consensus_comparisons_equal_the_coco_route(seed: int) -> None:
    first = [h.model_copy(update={"consensus_prob": 0.2}) for _, h in _messages(seed, 2)]
    second = [h for _, h in _messages(seed + 100, 2)]
    second = [s.model_copy(update={"frame_id": f.frame_id, "seq": f.seq}) for s, f in zip(second, first, strict=True)]
    ours = _counts(compare_people(list(zip(second, first, strict=True)), CTX))
    assert ours == _coco_route(second, first)
