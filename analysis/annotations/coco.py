"""Readers for COCO ground-truth and results documents (already parsed from JSON).

Ground truth is the standard COCO object (``images``, ``annotations``,
``categories``); image records may carry ``tags`` (image-level labels) and
``inclusion_prob`` (the router's sampling probability, default 1). Results are
the standard COCO results list, or an object with ``annotations`` (that list)
plus ``images`` carrying per-frame ``tags``, ``confidence`` and
``model_version``. A ground-truth-shaped document is also accepted as the
automation side, for comparing two human annotations of the same frames.

Segmentations are read when ``with_masks`` is set, or where a record has no
``bbox`` (its box then comes from its mask). Polygon segmentations need a
``rasterise`` function (the I/O edge passes pycocotools'); without one they are
refused.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from analysis.annotations import checks
from analysis.annotations.coco_frames import parse_categories, parse_frame_labels, parse_images
from analysis.annotations.coco_objects import Context, RecordRules, parse_objects
from analysis.annotations.model import Annotations, Categories
from analysis.annotations.polygons import Rasteriser
from analysis.exceptions import InvalidInput

GROUND_TRUTH = RecordRules(section="annotations", results=False)
RESULTS_LIST = RecordRules(section="", results=True)
RESULTS_OBJECT = RecordRules(section="annotations", results=True)


def parse_ground_truth(
    doc: Any, source: str, *, with_masks: bool = False, rasterise: Rasteriser | None = None,
) -> Annotations:
    """A COCO ground-truth document as :class:`Annotations`."""
    rec = checks.as_record(doc, source, "")
    categories = parse_categories(checks.field(rec, "categories", source, ""), source)
    images, tags = parse_images(checks.field(rec, "images", source, ""), source)
    items = checks.as_list(checks.field(rec, "annotations", source, ""), source, "annotations")
    objects = parse_objects(items, Context(source, GROUND_TRUTH, images, categories, with_masks, rasterise))
    n = len(images)
    return Annotations(
        images=images, categories=categories, objects=objects, tags=tags,
        confidence=np.full(n, np.nan), model_version=[None] * n, source=source,
    )


def parse_automation(
    doc: Any, source: str, manual: Annotations, *, with_masks: bool = False, rasterise: Rasteriser | None = None,
) -> Annotations:
    """The machine side of a comparison, read against the manual side's frames and labels."""
    if isinstance(doc, dict) and "images" in doc and "categories" in doc:
        other = parse_ground_truth(doc, source, with_masks=with_masks, rasterise=rasterise)
        return _ground_truth_as_automation(other, source, manual)
    rules = RESULTS_LIST if isinstance(doc, list) else RESULTS_OBJECT
    n = len(manual.images)
    tags: list[Any] = [{} for _ in range(n)]
    confidence = [float("nan")] * n
    versions: list[str | None] = [None] * n
    if isinstance(doc, dict):
        items = checks.as_list(checks.field(doc, "annotations", source, ""), source, "annotations")
        if "images" in doc:
            tags, confidence, versions = parse_frame_labels(doc["images"], source, manual.images)
        if "model_version" in doc:
            default = checks.text(doc["model_version"], source, "model_version")
            versions = [v if v is not None else default for v in versions]
    elif isinstance(doc, list):
        items = doc
    else:
        raise InvalidInput(source, "", f"expected a COCO results list or object, got {checks.describe(doc)}")
    ctx = Context(source, rules, manual.images, manual.categories, with_masks, rasterise)
    return Annotations(
        images=manual.images, categories=manual.categories, objects=parse_objects(items, ctx),
        tags=tags, confidence=np.array(confidence, dtype=np.float64), model_version=versions,
        source=source,
    )


def _ground_truth_as_automation(other: Annotations, source: str, manual: Annotations) -> Annotations:
    _check_same_categories(other.categories, manual.categories, source)
    frame = np.array([manual.images.index.get(int(i), -1) for i in other.images.ids], dtype=np.int64)
    if (frame < 0).any():
        i = int(np.argmin(frame))
        missing = int(other.images.ids[i])
        raise InvalidInput(source, f"images[{i}].id", f"image {missing} is not in the manual annotations")
    objects = other.objects
    remapped = replace(
        objects, frame=frame[objects.frame],
        category=manual.categories.index_of(other.categories.ids[objects.category]),
    )
    order = np.argsort(remapped.frame, kind="stable")
    tags: list[Any] = [{} for _ in range(len(manual.images))]
    for i, f in enumerate(frame.tolist()):
        tags[f] = other.tags[i]
    n = len(manual.images)
    return Annotations(
        images=manual.images, categories=manual.categories, objects=remapped.take(order), tags=tags,
        confidence=np.full(n, np.nan), model_version=[None] * n, source=source,
    )


def _check_same_categories(ours: Categories, theirs: Categories, source: str) -> None:
    known = dict(zip(theirs.ids.tolist(), theirs.names, strict=True))
    for i, (cid, name) in enumerate(zip(ours.ids.tolist(), ours.names, strict=True)):
        if known.get(cid) != name:
            raise InvalidInput(
                source, f"categories[{i}]",
                f"category {cid} '{name}' differs from the manual file's categories",
            )
