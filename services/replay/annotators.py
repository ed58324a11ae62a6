"""Simulated blind annotators: ground truth passed through a documented human error model.

People miss some small objects, draw boxes a little off, now and then confuse
similar classes or mis-set an attribute, and rarely mislabel a whole-frame tag.
Each (frame, annotator) pair draws its own deterministic random stream, so two
annotators of one frame (a consensus copy) disagree the way two people would,
and a replay reproduces every annotation exactly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

SIMILAR = {"pedestrian": "cyclist", "cyclist": "pedestrian"}


@dataclass(frozen=True)
class HumanErrorModel:
    """Rates of human mistakes (defaults: a careful but not perfect annotation team)."""

    miss_tiny: float = 0.25  # objects under 12 px tall
    miss_small: float = 0.02  # objects 12-32 px tall
    miss_other: float = 0.003
    box_jitter: float = 0.03  # sd of each box edge, as a share of the object's size
    class_confusion: float = 0.01  # between similar classes
    attribute_flip: float = 0.03
    tag_error: float = 0.01  # whole-frame labels (weather, time of day, digit)


def annotator_rng(seed: int, frame_id: int, annotator: int) -> np.random.Generator:
    digest = hashlib.blake2b(f"{seed}:{frame_id}:{annotator}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def annotate_frame(
    objects: list[dict[str, Any]], tags: dict[str, str], *, model: HumanErrorModel, rng: np.random.Generator,
    names: dict[int, str], ids: dict[str, int], tag_values: dict[str, list[str]],
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One person's annotation of a frame: its objects (COCO records without ids) and tags."""
    out = []
    for obj in objects:
        x, y, w, h = obj["bbox"]
        if rng.random() < _miss_rate(model, h):
            continue
        jitter = rng.normal(0.0, model.box_jitter, 4) * np.array([w, h, w, h])
        x1, y1 = x + jitter[0], y + jitter[1]
        x2, y2 = x + w + jitter[2], y + h + jitter[3]
        name = names[obj["category_id"]]
        if name in SIMILAR and rng.random() < model.class_confusion:
            name = SIMILAR[name]
        record = {"category_id": ids[name], "bbox": [round(x1, 1), round(y1, 1), round(max(x2 - x1, 1.0), 1),
                                                     round(max(y2 - y1, 1.0), 1)], "iscrowd": 0}
        attrs = dict(obj.get("attributes", {}))
        if "occluded" in attrs and rng.random() < model.attribute_flip:
            attrs["occluded"] = not attrs["occluded"]
        if attrs:
            record["attributes"] = attrs
        out.append(record)
    return out, {k: _tag(v, tag_values.get(k, [v]), model, rng) for k, v in tags.items()}


def _miss_rate(model: HumanErrorModel, height: float) -> float:
    if height < 12:
        return model.miss_tiny
    return model.miss_small if height < 32 else model.miss_other


def _tag(value: str, values: list[str], model: HumanErrorModel, rng: np.random.Generator) -> str:
    others = [v for v in values if v != value]
    if others and rng.random() < model.tag_error:
        return str(others[int(rng.integers(len(others)))])
    return value


def annotate_document(
    ground_truth: dict[str, Any], *, seed: int, annotator: int, model: HumanErrorModel
) -> dict[str, Any]:
    """Every frame of a COCO ground-truth document as annotator ``annotator`` would label it."""
    names = {c["id"]: c["name"] for c in ground_truth["categories"]}
    ids = {name: cid for cid, name in names.items()}
    by_frame: dict[int, list[dict[str, Any]]] = {}
    for a in ground_truth.get("annotations", []):
        by_frame.setdefault(a["image_id"], []).append(a)
    tag_values: dict[str, list[str]] = {}
    for image in ground_truth["images"]:
        for k, v in image.get("tags", {}).items():
            tag_values.setdefault(k, [])
            if v not in tag_values[k]:
                tag_values[k].append(v)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image in ground_truth["images"]:
        rng = annotator_rng(seed, image["id"], annotator)
        objects, tags = annotate_frame(by_frame.get(image["id"], []), image.get("tags", {}), model=model, rng=rng,
                                       names=names, ids=ids, tag_values=tag_values)
        images.append({**image, "tags": tags})
        for record in objects:
            area = record["bbox"][2] * record["bbox"][3]
            annotations.append({"id": len(annotations) + 1, "image_id": image["id"], "area": area, **record})
    return {"images": images, "annotations": annotations, "categories": ground_truth["categories"]}
