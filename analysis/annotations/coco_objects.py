"""COCO annotation records (ground truth or results) into column-wise :class:`Objects`.

A vectorised fast path handles well-formed files; when any check fails, the
records are walked one by one so the error names the exact record and field.
A record without ``bbox`` but with a ``segmentation`` (COCO's results format
for masks) gets its box from the mask, as pycocotools' ``loadRes`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from analysis.annotations import checks
from analysis.annotations.label_table import LabelTable
from analysis.annotations.model import (
    BoolArray,
    Categories,
    FloatArray,
    Images,
    IntArray,
    Objects,
)
from analysis.annotations.polygons import Rasteriser
from analysis.annotations.segmentation import Masks, boxes_from_masks, mask_areas, object_masks
from analysis.exceptions import InvalidInput

_NUMBER = (int, float)
_SCALAR = {str, int, float, bool}
_ABSENT: Any = object()
_NO_BOX = [0.0, 0.0, 0.0, 0.0]  # placeholder until the mask's box replaces it


@dataclass(frozen=True)
class RecordRules:
    """How one kind of annotation file names and constrains its records."""

    section: str  # "annotations", or "" for a bare results list
    results: bool  # COCO results semantics: score required, area = w*h, ids generated

    def where(self, i: int) -> str:
        return f"{self.section}[{i}]"


@dataclass(frozen=True)
class Context:
    source: str
    rules: RecordRules
    images: Images
    categories: Categories
    with_masks: bool
    rasterise: Rasteriser | None = None  # for polygon segmentations; without one they are refused


class _NeedsExactCheck(Exception):
    """Internal: the fast path met something only the record-by-record check can name."""


def parse_objects(items: list[Any], ctx: Context) -> Objects:
    try:
        columns = _fast_columns(items, ctx)
    except _NeedsExactCheck:
        _check_records(items, ctx)
        raise InvalidInput(ctx.source, ctx.rules.section, "malformed annotations") from None
    frame = _frame_index(columns["image_id"], ctx)
    category = _category_index(columns["category_id"], ctx)
    ann_id = columns["id"]
    _check_unique_ids(ann_id, ctx)
    boxless: BoolArray = columns["boxless"]
    area_from_mask = ctx.rules.results and bool(boxless[:1].any())  # pycocotools' loadRes looks at record 0
    rows = np.arange(len(items)) if ctx.with_masks or area_from_mask else np.flatnonzero(boxless)
    masks = object_masks(items, rows, frame, ctx.images, source=ctx.source, section=ctx.rules.section,
                         rasterise=ctx.rasterise, required=ctx.with_masks)
    boxes = boxes_from_masks(columns["bbox"], boxless, masks)
    objects = Objects(
        frame=frame, ann_id=ann_id, category=category,
        area=_areas(boxes, columns["area"], masks, from_mask=area_from_mask or not ctx.rules.results),
        score=columns["score"], crowd=columns["iscrowd"], ignore=columns["ignore"],
        track_id=columns["track_id"], attributes=columns["attributes"],
        geometry={"box2d": boxes, "mask": masks} if ctx.with_masks else {"box2d": boxes},
    )
    if len(frame) < 2 or bool(np.all(frame[:-1] <= frame[1:])):
        return objects
    return objects.take(np.argsort(frame, kind="stable"))


def _fast_columns(items: list[Any], ctx: Context) -> dict[str, Any]:
    """All columns as arrays; raises _NeedsExactCheck when anything looks wrong."""
    if not isinstance(items, list) or (items and set(map(type, items)) != {dict}):
        raise _NeedsExactCheck
    results = ctx.rules.results
    try:
        image_id = [a["image_id"] for a in items]
        category_id = [a["category_id"] for a in items]
        boxes = [a.get("bbox", _ABSENT) for a in items]
        ann_id = list(range(1, len(items) + 1)) if results else [a["id"] for a in items]
        scores = [a["score"] for a in items] if results else [a.get("score") for a in items]
    except KeyError:
        raise _NeedsExactCheck from None
    crowd = _flags(items, "iscrowd")
    if results and crowd.any():
        raise _NeedsExactCheck
    boxless = np.array([b is _ABSENT for b in boxes], dtype=bool)
    if any(items[i].get("segmentation") is None for i in np.flatnonzero(boxless).tolist()):
        raise _NeedsExactCheck  # neither a box nor a mask to take one from
    return {
        "image_id": _ints(image_id), "category_id": _ints(category_id), "id": _ints(ann_id),
        "bbox": _boxes([_NO_BOX if b is _ABSENT else b for b in boxes]), "boxless": boxless,
        "score": _scores(scores, required=results),
        "iscrowd": crowd, "ignore": _flags(items, "ignore"),
        "area": None if results else _optional_areas(items),
        "track_id": _ints([a.get("track_id", -1) for a in items]),
        "attributes": _attributes(items),
    }


def _only(values: Sequence[Any], kinds: tuple[type, ...]) -> None:
    """Every value is an instance of ``kinds`` (booleans never count as numbers)."""
    for kind in set(map(type, values)):
        if kind is bool or not issubclass(kind, kinds):
            raise _NeedsExactCheck


def _ints(values: list[Any]) -> IntArray:
    _only(values, (int,))
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        raise _NeedsExactCheck from None


def _boxes(boxes: list[Any]) -> FloatArray:
    if not boxes:
        return np.zeros((0, 4), dtype=np.float64)
    if set(map(type, boxes)) != {list} or set(map(len, boxes)) != {4}:
        raise _NeedsExactCheck
    _only(list(chain.from_iterable(boxes)), _NUMBER)
    arr = np.array(boxes, dtype=np.float64)
    if not np.isfinite(arr).all() or (arr[:, 2:] < 0).any():
        raise _NeedsExactCheck
    return arr


def _scores(scores: list[Any], *, required: bool) -> FloatArray:
    """Scores; without ``required``, a missing or null score is NaN (as the exact check allows)."""
    if not required and all(s is None for s in scores):
        return np.full(len(scores), np.nan)
    given = scores if required else [s for s in scores if s is not None]
    _only(given, _NUMBER)
    if not np.isfinite(np.array(given, dtype=np.float64)).all():
        raise _NeedsExactCheck
    return np.array([np.nan if s is None else s for s in scores], dtype=np.float64)


def _flags(items: list[dict[str, Any]], key: str) -> BoolArray:
    values = [a.get(key, 0) for a in items]
    if not set(map(type, values)) <= {int, bool} or not set(values) <= {0, 1}:
        raise _NeedsExactCheck
    return np.array(values, dtype=bool)


def _optional_areas(items: list[dict[str, Any]]) -> FloatArray | None:
    if not any("area" in a for a in items):
        return None
    values = [a.get("area", np.nan) for a in items]
    _only(values, _NUMBER)
    arr = np.array(values, dtype=np.float64)
    given = arr[~np.isnan(arr)]
    if not np.isfinite(given).all() or (given < 0).any():
        raise _NeedsExactCheck
    return arr


def _attributes(items: list[dict[str, Any]]) -> LabelTable | None:
    records = [a.get("attributes", _ABSENT) for a in items]
    given = [r for r in records if r is not _ABSENT]
    if not given:
        return None
    if set(map(type, given)) != {dict}:
        raise _NeedsExactCheck
    if not {type(v) for r in given for v in r.values()} <= _SCALAR:
        raise _NeedsExactCheck
    return LabelTable.from_records([None if r is _ABSENT else r for r in records])


def _areas(boxes: FloatArray, given: FloatArray | None, masks: Masks, *, from_mask: bool) -> FloatArray:
    """The given area, else (``from_mask``) the mask's, else the box's.

    Ground truth keeps its ``area`` field. Results have none: pycocotools'
    ``loadRes`` sets the box's area when the file's first record has a box and
    the mask's when it has not, which decides the COCO size buckets.
    """
    area = boxes[:, 2] * boxes[:, 3]
    if from_mask:
        of_mask = mask_areas(masks)
        area = np.where(np.isnan(of_mask), area, of_mask)
    return area if given is None else np.where(np.isnan(given), area, given)


def _frame_index(image_ids: IntArray, ctx: Context) -> IntArray:
    known = ctx.images.ids
    order = np.argsort(known)
    pos = np.clip(np.searchsorted(known[order], image_ids), 0, max(len(known) - 1, 0))
    found = (known[order][pos] == image_ids) if len(known) else np.zeros(len(image_ids), bool)
    if not found.all():
        i = int(np.argmin(found))
        raise InvalidInput(
            ctx.source, f"{ctx.rules.where(i)}.image_id",
            f"image {int(image_ids[i])} is not in {_known(ctx, 'images')}",
        )
    return order[pos].astype(np.int64)


def _known(ctx: Context, section: str) -> str:
    """Whose images or categories a record must use: results have none of their own."""
    return f"the manual annotations' {section}" if ctx.rules.results else f"the {section} list"


def _category_index(category_ids: IntArray, ctx: Context) -> IntArray:
    ids = ctx.categories.ids
    known = np.isin(category_ids, ids)
    if not known.all():
        i = int(np.argmin(known))
        raise InvalidInput(
            ctx.source, f"{ctx.rules.where(i)}.category_id",
            f"category {int(category_ids[i])} is not in {_known(ctx, 'categories')}",
        )
    return ctx.categories.index_of(category_ids)


def _check_unique_ids(ann_id: IntArray, ctx: Context) -> None:
    if ctx.rules.results or len(ann_id) < 2:
        return
    order = np.argsort(ann_id, kind="stable")
    dup = np.flatnonzero(ann_id[order][1:] == ann_id[order][:-1])
    if len(dup):
        first, second = int(order[dup[0]]), int(order[dup[0] + 1])
        raise InvalidInput(
            ctx.source, f"{ctx.rules.where(second)}.id",
            f"duplicate annotation id {int(ann_id[second])} (first at {ctx.rules.where(first)})",
        )


def _check_records(items: Any, ctx: Context) -> None:
    """Walk every record with the exact checks; raises on the first problem."""
    rules = ctx.rules
    checks.as_list(items, ctx.source, rules.section or "results")
    for i, item in enumerate(items):
        _check_record(checks.as_record(item, ctx.source, rules.where(i)), rules.where(i), ctx)


def _check_record(rec: Any, where: str, ctx: Context) -> None:
    src = ctx.source
    get: Callable[[str], Any] = lambda key: checks.field(rec, key, src, where)  # noqa: E731
    if not ctx.rules.results:
        checks.integer(get("id"), src, f"{where}.id")
    checks.integer(get("image_id"), src, f"{where}.image_id")
    checks.integer(get("category_id"), src, f"{where}.category_id")
    if "bbox" in rec or rec.get("segmentation") is None:  # without a box, the mask gives one
        checks.box(get("bbox"), src, f"{where}.bbox")
    if ctx.rules.results or rec.get("score") is not None:
        checks.number(get("score"), src, f"{where}.score")
    for key in ("iscrowd", "ignore"):
        if key in rec:
            checks.flag(rec[key], src, f"{where}.{key}")
    if ctx.rules.results and rec.get("iscrowd"):
        raise InvalidInput(src, f"{where}.iscrowd", "results cannot be crowd regions")
    if "area" in rec and not ctx.rules.results:
        checks.number(rec["area"], src, f"{where}.area", minimum=0.0)
    if "track_id" in rec:
        checks.integer(rec["track_id"], src, f"{where}.track_id")
    if "attributes" in rec:
        checks.attributes(rec["attributes"], src, f"{where}.attributes")
