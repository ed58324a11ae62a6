"""pycocotools as the reference: per-image TP/FP/FN from ``COCOeval.evaluateImg``, for boxes or masks."""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

Counts = dict[int, tuple[int, int, int]]


def pycocotools_counts(
    gt_doc: dict[str, Any], results: list[dict[str, Any]], *, iou: float = 0.5,
    area_range: tuple[float, float] = (0.0, 1e10), max_dets: int = 100, use_cats: bool = True,
    iou_type: str = "bbox",
) -> Counts:
    """Per image: (true positives, false positives, false negatives) as pycocotools counts them.

    ``iou_type`` is ``bbox`` or ``segm`` (mask IoU; polygons rasterised by pycocotools itself).
    """
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(gt_doc)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results)) if results else _empty(gt_doc)
        ev = COCOeval(gt, dt, iou_type)
        ev.params.iouThrs = np.array([iou])
        ev.params.areaRng = [list(area_range)]
        ev.params.areaRngLbl = ["range"]
        ev.params.maxDets = [max_dets]
        ev.params.useCats = int(use_cats)
        ev.evaluate()
    out: dict[int, list[int]] = {}
    for e in ev.evalImgs:
        if e is None:
            continue
        dt_ig = e["dtIgnore"][0].astype(bool)
        matched = e["dtMatches"][0] > 0
        acc = out.setdefault(int(e["image_id"]), [0, 0, 0])
        acc[0] += int((matched & ~dt_ig).sum())
        acc[1] += int((~matched & ~dt_ig).sum())
        acc[2] += int(((e["gtMatches"][0] == 0) & ~e["gtIgnore"].astype(bool)).sum())
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def _empty(gt_doc: dict[str, Any]) -> COCO:
    dt = COCO()
    dt.dataset = {"images": gt_doc["images"], "categories": gt_doc["categories"], "annotations": []}
    dt.createIndex()
    return dt
