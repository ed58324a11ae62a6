"""Polygon segmentations read through ``services.io`` rasterise to the RLE pycocotools' ``annToRLE`` gives."""

from __future__ import annotations

import contextlib
import copy
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from analysis.annotations import parse_ground_truth, rle
from services.io.annotation_files import load_automation, load_manual
from services.io.files import write_json
from services.io.polygons import rasterise_polygons


def random_parts(rng: np.random.Generator, h: int, w: int) -> list[list[float]]:
    """1-3 parts of 3-12 points, some crossing themselves or the image border, some on whole pixels."""
    parts = []
    for _ in range(int(rng.integers(1, 4))):
        n = int(rng.integers(3, 13))
        xy = np.column_stack([rng.uniform(-3, w + 3, n), rng.uniform(-3, h + 3, n)])
        if rng.random() < 0.3:
            xy = xy.round()
        parts.append([float(v) for v in xy.ravel()])
    return parts


def random_document(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    images = [{"id": i, "width": int(rng.integers(5, 80)), "height": int(rng.integers(5, 60))} for i in (1, 2, 3)]
    anns = []
    for image in images:
        for _ in range(int(rng.integers(1, 8))):
            anns.append({"id": len(anns) + 1, "image_id": image["id"], "category_id": 1, "bbox": [0, 0, 1, 1],
                         "area": 1.0, "iscrowd": 0,
                         "segmentation": random_parts(rng, image["height"], image["width"])})
    return {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "thing"}]}


def ann_to_rle(doc: dict[str, Any]) -> dict[int, dict[str, Any]]:
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(doc)
        coco.createIndex()
    return {a["id"]: coco.annToRLE(a) for a in doc["annotations"]}


@pytest.mark.parametrize("seed", range(12))
def test_random_polygons_rasterise_as_pycocotools_ann_to_rle(seed: int) -> None:
    doc = random_document(seed)
    manual = parse_ground_truth(doc, "gt.json", with_masks=True, rasterise=rasterise_polygons)
    expected = ann_to_rle(doc)
    assert manual.objects.masks is not None
    for mask, ann_id in zip(manual.objects.masks, manual.objects.ann_id.tolist(), strict=True):
        ref = expected[ann_id]
        assert mask is not None and (mask.height, mask.width) == tuple(ref["size"])
        assert mask.counts == rle.decode_counts(ref["counts"].decode("ascii")), ann_id
        assert np.array_equal(rle.decode(mask), mask_utils.decode(ref).astype(bool))


def test_readers_rasterise_polygons_on_both_sides(tmp_path: Path) -> None:
    doc = random_document(99)
    results = [{"image_id": a["image_id"], "category_id": 1, "segmentation": a["segmentation"], "score": 0.5}
               for a in doc["annotations"]]
    write_json(tmp_path / "gt.json", doc)
    write_json(tmp_path / "results.json", results)
    manual = load_manual(tmp_path / "gt.json", with_masks=True)
    automation = load_automation(tmp_path / "results.json", manual, with_masks=True)
    assert automation.objects.masks == manual.objects.masks
    # a polygon result without bbox is boxed from its mask (pycocotools itself cannot read one)
    expected = [mask_utils.toBbox(ann_to_rle(doc)[i]).tolist() for i in manual.objects.ann_id.tolist()]
    assert automation.objects.boxes.tolist() == expected
