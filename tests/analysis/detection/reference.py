"""pycocotools as the reference for AP and AR: ``COCOeval`` run end to end on documents, silently."""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

# pycocotools' default areaRng order: all, small, medium, large.
AREA_INDEX = {"all": 0, "small": 1, "medium": 2, "large": 3}


def coco_eval(
    gt_doc: dict[str, Any], results: list[dict[str, Any]], *,
    iou_thrs: Sequence[float] | None = None, area_rng: Sequence[tuple[float, float]] | None = None,
    iou_type: str = "bbox",
) -> COCOeval:
    """``COCOeval(gt, dt, iou_type)`` after evaluate() and accumulate(), and summarize() unless areas are custom.

    Defaults are pycocotools' own params. Documents are deep-copied: pycocotools
    writes ``ignore``, ``area`` and ``id`` into them. An empty results list gets
    an empty results COCO, since ``loadRes`` fails on one.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(gt_doc)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results)) if results else _empty_results(gt_doc)
        ev = COCOeval(gt, dt, iou_type)
        if iou_thrs is not None:
            ev.params.iouThrs = np.array(iou_thrs, dtype=np.float64)
        if area_rng is not None:
            ev.params.areaRng = [list(r) for r in area_rng]
            ev.params.areaRngLbl = [f"range{i}" for i in range(len(area_rng))]
        ev.evaluate()
        ev.accumulate()
        if area_rng is None:
            ev.summarize()
    return ev


def defined(value: float) -> float:
    """pycocotools' -1 ("no such objects") as NaN, the core's convention."""
    return float("nan") if value == -1 else float(value)


def sorted_category_names(gt_doc: dict[str, Any]) -> list[str]:
    """Category names in pycocotools' class axis order (ascending id)."""
    return [c["name"] for c in sorted(gt_doc["categories"], key=lambda c: c["id"])]


def _empty_results(gt_doc: dict[str, Any]) -> COCO:
    dt = COCO()
    dt.dataset = {"images": copy.deepcopy(gt_doc["images"]), "categories": copy.deepcopy(gt_doc["categories"]),
                  "annotations": []}
    dt.createIndex()
    return dt
