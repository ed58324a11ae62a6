"""Mask geometry: ``coco`` matching on RLE masks equals pycocotools' ``segm`` evaluation."""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.matching import MatchOptions
from tests.analysis.matching.test_coco_equivalence import our_counts

H, W = 40, 60


def _blob(rng: np.random.Generator, center: np.ndarray | None = None) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    cy, cx = center if center is not None else (rng.uniform(5, H - 5), rng.uniform(5, W - 5))
    ry, rx = rng.uniform(3, 10, 2)
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0


def _record(mask: np.ndarray) -> dict[str, Any]:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    x, y, w, h = mask_utils.toBbox(rle).tolist()
    return {"segmentation": {"size": [H, W], "counts": rle["counts"].decode()}, "bbox": [x, y, w, h],
            "area": float(mask_utils.area(rle))}


def _documents(seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    gts, dts = [], []
    for image in range(1, 9):
        for _ in range(int(rng.integers(0, 5))):
            mask = _blob(rng)
            gts.append({"id": len(gts) + 1, "image_id": image, "category_id": 1, "iscrowd": 0, **_record(mask)})
            if rng.random() < 0.8:
                cy, cx = np.argwhere(mask).mean(axis=0) + rng.normal(0, 1.5, 2)
                det = _record(_blob(rng, np.array([cy, cx])))
                dts.append({"image_id": image, "category_id": 1, "score": float(rng.integers(1, 4)) / 4,
                            "segmentation": det["segmentation"], "bbox": det["bbox"]})
    images = [{"id": i, "width": W, "height": H} for i in range(1, 9)]
    return {"images": images, "annotations": gts, "categories": [{"id": 1, "name": "car"}]}, dts


def _pycocotools_segm(gt_doc: dict[str, Any], results: list[dict[str, Any]]) -> dict[int, tuple[int, int, int]]:
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(gt_doc)
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), "segm")
        ev.params.iouThrs, ev.params.areaRng, ev.params.maxDets = np.array([0.5]), [[0, 1e10]], [100]
        ev.evaluate()
    out: dict[int, tuple[int, int, int]] = {}
    for e in ev.evalImgs:
        if e is not None:
            hit, ig = e["dtMatches"][0] > 0, e["dtIgnore"][0].astype(bool)
            fn = int(((e["gtMatches"][0] == 0) & ~e["gtIgnore"].astype(bool)).sum())
            counts = (int((hit & ~ig).sum()), int((~hit & ~ig).sum()), fn)
            if any(counts):
                out[int(e["image_id"])] = counts
    return out


@pytest.mark.parametrize("seed", range(6))
def test_mask_matching_equals_pycocotools_segm(seed: int) -> None:
    gt_doc, results = _documents(seed)
    manual = parse_ground_truth(gt_doc, "gt.json", with_masks=True)
    automation = parse_automation(results, "results.json", manual, with_masks=True)
    options = MatchOptions(method="coco", geometry="mask")
    assert our_counts(automation, manual, options) == _pycocotools_segm(gt_doc, results)
