"""Simulated blind annotators: ground truth passed through a documented human error model.

People miss some small objects, draw boxes a little off, now and then confuse
similar classes or mis-set an attribute, and rarely mislabel a whole-frame tag.
Each (frame, annotator) pair draws its own deterministic random stream, so two
annotators of one frame (a consensus copy) disagree the way two people would,
and a replay reproduces every annotation exactly.

A ground-truth record carries a COCO ``bbox`` (a ``box2d`` object) or a tagged
``geometry``; the person for its kind draws it (:data:`PEOPLE`: boxes here,
cuboids in :mod:`services.replay.cuboid_person`), and the records they draw
carry the geometry in the same form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.replay.cuboid_person import cuboid_extras, draw_cuboid
from services.replay.human import SIMILAR, HumanErrorModel, annotator_rng

__all__ = ["PEOPLE", "SIMILAR", "HumanErrorModel", "annotate_document", "annotate_frame", "annotator_rng",
           "drawn_object", "object_kind"]

Record = dict[str, Any]


@dataclass(frozen=True)
class Person:
    """How a person draws the objects of one geometry kind: each truth object (None: missed), and the
    objects they add to a frame with objects of that kind."""

    draw: Callable[..., Record | None]
    extras: Callable[..., list[Record]]


def _draw_box(obj: Record, *, model: HumanErrorModel, rng: np.random.Generator, names: dict[int, str],
              ids: dict[str, int]) -> Record | None:
    x, y, w, h = obj["bbox"]
    if rng.random() < _miss_rate(model, h):
        return None
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
    return record


def _no_extras(objects: list[Record], **_: Any) -> list[Record]:
    return []


PEOPLE: dict[str, Person] = {"box2d": Person(_draw_box, _no_extras), "cuboid3d": Person(draw_cuboid, cuboid_extras)}


def object_kind(record: Record) -> str:
    """The geometry kind of a record: ``box2d`` for a COCO ``bbox``, else its geometry's ``type``."""
    return "box2d" if "bbox" in record else str(record["geometry"]["type"])


def drawn_object(record: Record) -> Record:
    """A drawn record as an annotated object's fields (its ``bbox`` or ``geometry``, class, attributes): what
    ``AnnotatedObject`` and the API's submission take."""
    shape = {"bbox": record["bbox"]} if "bbox" in record else {"geometry": record["geometry"]}
    return {**shape, "category_id": record["category_id"], "attributes": dict(record.get("attributes", {}))}


def annotate_frame(
    objects: list[Record], tags: dict[str, str], *, model: HumanErrorModel, rng: np.random.Generator,
    names: dict[int, str], ids: dict[str, int], tag_values: dict[str, list[str]],
) -> tuple[list[Record], dict[str, str]]:
    """One person's annotation of a frame: its objects (records without ids) and tags."""
    out = []
    for obj in objects:
        record = _person(object_kind(obj)).draw(obj, model=model, rng=rng, names=names, ids=ids)
        if record is not None:
            out.append(record)
    for kind in dict.fromkeys(object_kind(o) for o in objects):
        out += _person(kind).extras([o for o in objects if object_kind(o) == kind], model=model, rng=rng, ids=ids)
    return out, {k: _tag(v, tag_values.get(k, [v]), model, rng) for k, v in tags.items()}


def _person(kind: str) -> Person:
    person = PEOPLE.get(kind)
    if person is None:
        raise ValueError(f"no simulated person draws {kind!r} objects (they draw {', '.join(PEOPLE)})")
    return person


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
    """Every frame of a ground-truth document (COCO, or COCO-shaped with tagged geometry) as annotator
    ``annotator`` would label it."""
    names = {c["id"]: c["name"] for c in ground_truth["categories"]}
    ids = {name: cid for cid, name in names.items()}
    by_frame: dict[int, list[Record]] = {}
    for a in ground_truth.get("annotations", []):
        by_frame.setdefault(a["image_id"], []).append(a)
    tag_values: dict[str, list[str]] = {}
    for image in ground_truth["images"]:
        for k, v in image.get("tags", {}).items():
            tag_values.setdefault(k, [])
            if v not in tag_values[k]:
                tag_values[k].append(v)
    images: list[Record] = []
    annotations: list[Record] = []
    for image in ground_truth["images"]:
        rng = annotator_rng(seed, image["id"], annotator)
        objects, tags = annotate_frame(by_frame.get(image["id"], []), image.get("tags", {}), model=model, rng=rng,
                                       names=names, ids=ids, tag_values=tag_values)
        images.append({**image, "tags": tags})
        for record in objects:
            area = {"area": record["bbox"][2] * record["bbox"][3]} if "bbox" in record else {}
            annotations.append({"id": len(annotations) + 1, "image_id": image["id"], **area, **record})
    return {"images": images, "annotations": annotations, "categories": ground_truth["categories"]}
