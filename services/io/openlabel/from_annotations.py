"""shadowqa's :class:`Annotations` as an OpenLABEL document (the inverse of ``to_annotations``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analysis.annotations.model import Annotations, Objects
from analysis.exceptions import InvalidInput
from analysis.geometry.cuboids import Cuboid
from services.io.openlabel.convert import KINDS, SCORE
from services.io.openlabel.document import Element, ElementData, Frame, OpenLabel, Shape, Value, intervals
from services.io.openlabel.shapes import bbox_of, shape_of_cuboid

LOCAL_CS = {"type": "local_cs", "parent": "", "children": []}  # a coordinate system known by its name only


def from_annotations(ann: Annotations, *, kind: str | None = None) -> OpenLabel:
    """``ann``'s objects of geometry ``kind`` (default: cuboid3d if they carry it, else box2d) as a document."""
    objects = ann.objects
    kind = kind or ("cuboid3d" if "cuboid3d" in objects.geometry else "box2d")
    if kind not in KINDS or kind not in objects.geometry:
        raise InvalidInput(ann.source, "geometry", f"OpenLABEL holds {', '.join(KINDS)} objects: these annotations "
                           f"carry {', '.join(objects.geometry) or 'no geometry'}")
    frames = ann.images.ids.tolist()
    if any(f < 0 for f in frames):
        raise InvalidInput(ann.source, "images", "OpenLABEL frame numbers are image ids, which must be >= 0")
    shapes = _shapes(objects, kind)
    uids = _uids(objects.track_id)
    elements = _elements(ann, uids, frames)
    contexts, context_data = _contexts(ann.tags, frames)
    per_frame: list[dict[str, ElementData]] = [{} for _ in frames]
    for i, (f, uid) in enumerate(zip(objects.frame.tolist(), uids, strict=True)):
        if uid in per_frame[f]:
            raise InvalidInput(ann.source, f"object {i}", f"track {uid} has two objects on image {frames[f]}")
        per_frame[f][uid] = ElementData((shapes[i],), _values(objects, i))
    systems = sorted({s.coordinate_system for s in shapes} - {""})
    return OpenLabel(
        objects=elements, contexts=contexts, frame_intervals=intervals(sorted(frames)),
        frames={f: Frame(objects=per_frame[i], contexts=context_data[i]) for i, f in enumerate(frames)},
        coordinate_systems={name: dict(LOCAL_CS) for name in systems},
    )


def _shapes(objects: Objects, kind: str) -> list[Shape]:
    block = objects.geometry[kind]
    if kind == "box2d":
        return [bbox_of(box) for box in block.tolist()]
    return [shape_of_cuboid(_cuboid(box, frame, q)) for box, frame, q in
            zip(block["box"].tolist(), block["frame"].tolist(), block["quaternion"].tolist(), strict=True)]


def _cuboid(box: list[float], frame: str, quaternion: list[float]) -> Cuboid:
    rotation = None if np.isnan(quaternion).any() else (quaternion[0], quaternion[1], quaternion[2], quaternion[3])
    return Cuboid((box[0], box[1], box[2]), (box[3], box[4], box[5]), box[6], frame, rotation)


def _uids(track_id: Any) -> list[str]:
    """Each object's uid: its track id, or (without one) a new uid after the largest track id."""
    tracks = track_id.tolist()
    fresh = iter(range(max(tracks, default=-1) + 1, max(tracks, default=-1) + 1 + len(tracks)))
    return [str(t) if t >= 0 else str(next(fresh)) for t in tracks]


def _elements(ann: Annotations, uids: list[str], frames: list[int]) -> dict[str, Element]:
    objects = ann.objects
    types: dict[str, str] = {}
    on: dict[str, list[int]] = {}
    for i, (uid, c, f) in enumerate(zip(uids, objects.category.tolist(), objects.frame.tolist(), strict=True)):
        name = ann.categories.names[c]
        if types.setdefault(uid, name) != name:
            raise InvalidInput(ann.source, f"object {i}", f"track {uid} is both {types[uid]!r} and {name!r}")
        on.setdefault(uid, []).append(frames[f])
    return {uid: Element(f"{types[uid]}-{uid}", types[uid], frame_intervals=intervals(sorted(set(on[uid]))))
            for uid in sorted(types, key=int)}


def _values(objects: Objects, i: int) -> tuple[Value, ...]:
    attributes = objects.attributes.row(i) if objects.attributes is not None else None
    values = [Value(_value_kind(v), name, v) for name, v in (attributes or {}).items()]
    if not np.isnan(objects.score[i]):
        values.append(Value("num", SCORE, float(objects.score[i])))
    return tuple(values)


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "text" if isinstance(value, str) else "num"


def _contexts(tags: Sequence[Mapping[str, str]], frames: Sequence[int]) -> tuple[dict[str, Element],
                                                                                   list[dict[str, ElementData]]]:
    """Tags as contexts (one per tag name, in order of first use) and each frame's context data."""
    names = list(dict.fromkeys(name for t in tags for name in t))
    uid = {name: str(i) for i, name in enumerate(names)}
    on: dict[str, list[int]] = {name: [] for name in names}
    per_frame: list[dict[str, ElementData]] = []
    for t, f in zip(tags, frames, strict=True):
        per_frame.append({uid[k]: ElementData(values=(Value("text", k, v),)) for k, v in t.items()})
        for k in t:
            on[k].append(f)
    return {uid[n]: Element(n, n, frame_intervals=intervals(sorted(on[n]))) for n in names}, per_frame
