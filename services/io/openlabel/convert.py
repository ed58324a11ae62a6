"""An OpenLABEL document as shadowqa's :class:`Annotations`, and annotations as a document.

- **Frames** are the document's frames (image id = frame number); a document without frames
  (static objects only, like ASAM's examples) is one frame, number 0.
- **Objects**: each ``bbox`` (geometry ``box2d``) or ``cuboid`` (``cuboid3d``) of an object on a
  frame is one annotated object: the object's static shapes on every frame it exists on (its frame
  intervals, or all frames), then its dynamic shapes on that frame. One geometry kind is read at a
  time. Its category is the object's ``type`` (categories: the types in sorted order, ids 1..K),
  its track id the object's uid (uids that are not integers: the object's place in the file).
- **Attributes** are the object's ``text``, ``num`` and ``boolean`` data (static, then that frame's);
  a ``num`` named ``score`` is the object's score instead (machine annotations).
- **Tags** of a frame are the ``text`` data of the contexts on it (static, then that frame's): a
  context per tag, named after it, its value a ``text`` context data of the same name.

Writing annotations gives every object its data per frame (track ids become uids; objects without
one get uids after the largest), tags as contexts, and upright cuboids as Euler angles. Image sizes,
file names, crowd and ignore flags, and per-frame confidence are not written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from analysis.annotations.columns import FrameColumns, annotations_of
from analysis.annotations.model import Annotations, Categories, Images
from analysis.exceptions import InvalidInput
from analysis.geometry import get_geometry
from services.io.openlabel.document import ElementData, Frame, OpenLabel, Shape, Value
from services.io.openlabel.shapes import box_of, cuboid_of

KINDS = {"box2d": "bbox", "cuboid3d": "cuboid"}  # shadowqa geometry kind -> OpenLABEL object data
SCORE = "score"


def to_annotations(doc: OpenLabel, source: str, *, kind: str | None = None,
                   categories: Categories | None = None, images: Images | None = None) -> Annotations:
    """The annotations of ``doc``'s objects of geometry ``kind`` (default: the one kind its objects
    carry). For the machine side of a comparison, pass the manual side's ``categories`` (types are
    looked up in them by name) and ``images`` (frame numbers are their ids)."""
    kind = _kind(doc, source, kind)
    frames = sorted(doc.frames) or [0]
    if images is not None:
        missing = [f for f in frames if f not in images.index]
        if missing:
            raise InvalidInput(source, f"frames.{missing[0]}", f"frame {missing[0]} is not in the manual annotations")
        frames = images.ids.tolist()
    categories = categories or _categories(doc)
    by_name = dict(zip(categories.names, categories.ids.tolist(), strict=True))
    rows = _Rows()
    tracks = _track_ids(doc)
    for f in frames:
        frame = doc.frames.get(f, Frame())
        for uid in objects_on(doc, frame, f):
            element = doc.objects[uid]
            data = frame.objects.get(uid, ElementData())
            shapes = [s for s in (*element.data.shapes, *data.shapes) if s.kind == KINDS[kind]]
            if shapes and element.type not in by_name:
                raise InvalidInput(source, f"objects.{uid}.type", f"type {element.type!r} is not among the manual "
                                   f"file's types {list(categories.names)}")
            rows.add(shapes, kind, by_name.get(element.type, 0), tracks[uid], (*element.data.values, *data.values))
        rows.end_frame(frame_tags(doc, frame, f))
    side = FrameColumns(counts=rows.counts, kinds=[kind] * len(rows.values), values=rows.values,
                        category_ids=rows.categories, tags=rows.tags, scores=rows.scores,
                        attributes=rows.attributes)
    images = images if images is not None else _images(frames)
    ann = annotations_of(side, images, categories, kind=kind, source=source)
    return replace(ann, objects=replace(ann.objects, track_id=np.array(rows.tracks, dtype=np.int64)))


@dataclass
class _Rows:
    """The annotated objects of the frames read so far, column by column."""

    def __post_init__(self) -> None:
        self.counts: list[int] = []
        self.values: list[Any] = []
        self.categories: list[int] = []
        self.tracks: list[int] = []
        self.scores: list[float] = []
        self.attributes: list[Mapping[str, Any] | None] = []
        self.tags: list[Mapping[str, str]] = []
        self._open = 0

    def add(self, shapes: Sequence[Shape], kind: str, category: int, track: int, values: Sequence[Value]) -> None:
        attributes = {v.name: v.val for v in values if not (v.kind == "num" and v.name == SCORE)}
        score = next((float(v.val) for v in reversed(values) if v.kind == "num" and v.name == SCORE), float("nan"))
        for shape in shapes:
            self.values.append(box_of(shape) if kind == "box2d" else cuboid_of(shape))
            self.categories.append(category)
            self.tracks.append(track)
            self.scores.append(score)
            self.attributes.append(attributes or None)
        self._open += len(shapes)

    def end_frame(self, tags: Mapping[str, str]) -> None:
        self.counts.append(self._open)
        self.tags.append(tags)
        self._open = 0


def _kind(doc: OpenLabel, source: str, kind: str | None) -> str:
    present = {s.kind for e in doc.objects.values() for s in e.data.shapes}
    present |= {s.kind for f in doc.frames.values() for d in f.objects.values() for s in d.shapes}
    if kind is not None:
        name = get_geometry(kind).kind
        if name not in KINDS:
            raise InvalidInput(source, "geometry", f"OpenLABEL files give {', '.join(KINDS)} objects, not {kind!r}")
        if present and KINDS[name] not in present:
            other = {v: k for k, v in KINDS.items()}[present.pop()]
            raise InvalidInput(source, "geometry", f"the objects carry {KINDS[other]} data, not {KINDS[name]}: "
                               f"read them as {other}")
        return name
    if len(present) > 1:
        raise InvalidInput(source, "objects", "carry both bbox and cuboid data: choose one geometry kind "
                           "(box2d or cuboid3d)")
    return "cuboid3d" if present == {"cuboid"} else "box2d"


def _categories(doc: OpenLabel) -> Categories:
    names = tuple(sorted({e.type for e in doc.objects.values()}))
    return Categories(np.arange(1, len(names) + 1, dtype=np.int64), names, ("",) * len(names))


def _track_ids(doc: OpenLabel) -> dict[str, int]:
    return {uid: int(uid) if uid.isascii() and uid.isdigit() and len(uid) < 19 else i
            for i, uid in enumerate(doc.objects)}


def objects_on(doc: OpenLabel, frame: Frame, f: int) -> list[str]:
    """The uids of the objects on frame ``f``: those with data on it in its order, then static ones."""
    static = [uid for uid, e in doc.objects.items() if uid not in frame.objects and e.data and e.exists_at(f)]
    return [*frame.objects, *static]


def frame_tags(doc: OpenLabel, frame: Frame, f: int) -> dict[str, str]:
    """The tags of frame ``f``: the text data of the contexts on it (static ones, then the frame's)."""
    tags: dict[str, str] = {}
    for context in doc.contexts.values():
        if context.exists_at(f):
            tags.update((v.name, str(v.val)) for v in context.data.values if v.kind == "text")
    for data in frame.contexts.values():
        tags.update((v.name, str(v.val)) for v in data.values if v.kind == "text")
    return tags


def _images(frames: list[int]) -> Images:
    n = len(frames)
    zeros = np.zeros(n, dtype=np.int64)
    return Images(ids=np.array(frames, dtype=np.int64), width=zeros, height=zeros, file_names=("",) * n,
                  inclusion_prob=np.ones(n), index={f: i for i, f in enumerate(frames)})
