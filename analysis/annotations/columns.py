"""Annotations built straight from column-wise values (as decoded messages hold them), without a COCO document.

The streaming comparator has, per frame, each object's tagged geometry (a
registered kind and its value), category id, score and attributes. This turns
a batch of such frames into :class:`Annotations` in one pass, equal to what the
COCO readers make of the same objects written as a COCO file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.annotations.label_table import LabelTable
from analysis.annotations.model import Annotations, Categories, Images, Objects, Tags
from analysis.exceptions import InvalidInput
from analysis.geometry import get_geometry


@dataclass(frozen=True)
class FrameColumns:
    """One side of a batch of frames: per frame its object count; per object its geometry, class and extras."""

    counts: Sequence[int]  # objects of each frame, frames in batch order
    kinds: Sequence[str]  # each object's geometry kind
    values: Sequence[Any]  # each object's geometry, as its kind's reader gave it
    category_ids: Sequence[int]
    tags: Sequence[Tags]  # per frame
    scores: Sequence[float] | None = None  # None: no scores (a person's annotation)
    attributes: Sequence[Mapping[str, Any] | None] | None = None
    confidence: Sequence[float | None] | None = None  # per frame
    model_version: Sequence[str | None] | None = None  # per frame


def frames_of(n: int) -> Images:
    """``n`` frames identified by their place in the batch (no pixels, inclusion probability 1)."""
    ids = np.arange(n, dtype=np.int64)
    zeros = np.zeros(n, dtype=np.int64)
    return Images(ids=ids, width=zeros, height=zeros, file_names=("",) * n, inclusion_prob=np.ones(n),
                  index={i: i for i in range(n)})


def annotations_of(
    side: FrameColumns, images: Images, categories: Categories, *, kind: str, source: str,
) -> Annotations:
    """The :class:`Annotations` of ``side`` on ``images`` (one per frame of the batch), its objects'
    geometry stored as geometry kind ``kind``'s column block (an object of another kind is refused)."""
    n = len(images)
    objects = _objects(side, categories, kind, source)
    confidence = [np.nan if c is None else c for c in side.confidence] if side.confidence is not None else [np.nan] * n
    return Annotations(
        images=images, categories=categories, objects=objects, tags=list(side.tags),
        confidence=np.array(confidence, dtype=np.float64),
        model_version=list(side.model_version) if side.model_version is not None else [None] * n, source=source,
    )


def shared_kind(sides: Sequence[FrameColumns], default: str) -> str:
    """The one geometry kind the objects of ``sides`` share (``default`` when there are none)."""
    present = sorted({k for side in sides for k in side.kinds})
    if len(present) > 1:
        raise InvalidInput("comparison", "geometry", f"objects of several geometry kinds {present}: a comparison "
                           "matches one kind at a time")
    return present[0] if present else default


def _objects(side: FrameColumns, categories: Categories, kind: str, source: str) -> Objects:
    n = len(side.kinds)
    frame = np.repeat(np.arange(len(side.counts), dtype=np.int64), np.asarray(side.counts, dtype=np.int64))
    category_ids = np.array(side.category_ids, dtype=np.int64).reshape(n)
    known = np.isin(category_ids, categories.ids)
    if not known.all():
        i = int(np.argmin(known))
        raise InvalidInput(source, f"frame {int(frame[i])}: object {i}", f"category {int(category_ids[i])} is not "
                           "in the categories")
    other = [i for i, k in enumerate(side.kinds) if k != kind]
    if other:
        raise InvalidInput(source, f"object {other[0]}", f"is a {side.kinds[other[0]]!r}, not a {kind!r} geometry")
    geometry = get_geometry(kind)
    block = geometry.column(side.values)
    records = side.attributes if side.attributes is not None else [None] * n
    return Objects(
        frame=frame, ann_id=np.arange(1, n + 1, dtype=np.int64), category=categories.index_of(category_ids),
        area=np.asarray(geometry.area(block), dtype=np.float64),
        score=np.full(n, np.nan) if side.scores is None else np.array(side.scores, dtype=np.float64).reshape(n),
        crowd=np.zeros(n, dtype=bool), ignore=np.zeros(n, dtype=bool), track_id=np.full(n, -1, dtype=np.int64),
        attributes=None if all(r is None for r in records) else LabelTable.from_records(records),
        geometry={geometry.kind: block},
    )
