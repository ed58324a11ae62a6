"""COCOeval's twelve stats and AP per class from the core equal pycocotools' (bbox and segm) to 1e-12."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from analysis.annotations import Annotations, parse_automation, parse_ground_truth
from analysis.annotations.model import FloatArray, IntArray, Objects
from analysis.detection import STAT_NAMES, CocoSummary, coco_summary
from analysis.detection.remembered_iou import RememberedIoU
from analysis.exceptions import InvalidInput
from analysis.geometry import BoxGeometry
from services.datasets.box_pairs import PairConfig, generate
from tests.analysis.detection.reference import coco_eval, defined, sorted_category_names
from tests.utils.factories import random_coco_pair

TOL = 1e-12


def ours(gt_doc: dict[str, Any], results: list[dict[str, Any]], geometry: str = "box") -> CocoSummary:
    masks = geometry == "mask"
    manual = parse_ground_truth(gt_doc, "gt.json", with_masks=masks)
    return coco_summary(parse_automation(results, "results.json", manual, with_masks=masks), manual,
                        geometry=geometry)


def assert_like_pycocotools(got: CocoSummary, gt_doc: dict[str, Any], results: list[dict[str, Any]],
                            iou_type: str = "bbox") -> None:
    ev = coco_eval(gt_doc, results, iou_type=iou_type)
    assert list(got.stats) == list(STAT_NAMES)
    expected = [defined(v) for v in ev.stats]
    np.testing.assert_allclose(list(got.stats.values()), expected, rtol=0, atol=TOL, equal_nan=True)
    precision = ev.eval["precision"][:, :, :, 0, 2]  # area all, maxDets 100
    by_id = np.argsort([c["id"] for c in gt_doc["categories"]], kind="stable")
    np.testing.assert_array_equal(np.nan_to_num(got.overall.precision[:, :, by_id], nan=-1.0), precision)
    for k, name in enumerate(sorted_category_names(gt_doc)):
        kept = precision[:, :, k][precision[:, :, k] > -1]
        assert got.per_class[name].ap == pytest.approx(float(np.mean(kept)) if kept.size else np.nan,
                                                       abs=TOL, nan_ok=True), name


@pytest.mark.parametrize(
    ("seed", "max_objects", "crowd_rate", "score_levels"),
    [(s, 15, 0.1, 5) for s in range(8)] + [(50 + s, 30, 0.25, 3) for s in range(4)] + [(80, 40, 0.0, 1000)],
)
def test_boxes_equal_pycocotools_bbox(seed: int, max_objects: int, crowd_rate: float, score_levels: int) -> None:
    gt_doc, results = random_coco_pair(seed, n_images=60, max_objects=max_objects, crowd_rate=crowd_rate,
                                       score_levels=score_levels)
    assert_like_pycocotools(ours(gt_doc, results), gt_doc, results)


@pytest.mark.parametrize("seed", [0, 1])
def test_simulated_driving_frames_cover_every_size_bucket(seed: int) -> None:
    gt_doc, results = generate(PairConfig(frames=120, seed=seed))
    got = ours(gt_doc, results["annotations"])
    assert all(not np.isnan(v) for v in got.stats.values())
    assert_like_pycocotools(got, gt_doc, results["annotations"])


H, W = 48, 64


def _mask(rng: np.random.Generator, cy: float, cx: float) -> dict[str, Any]:
    yy, xx = np.mgrid[:H, :W]
    ry, rx = rng.uniform(1.5, 14, 2)
    blob = (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0).astype(np.uint8)
    code = mask_utils.encode(np.asfortranarray(blob))
    return {"size": [H, W], "counts": code["counts"].decode()}


def mask_documents(seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Blobs of all sizes, some crowd regions, detections near them plus clutter; results without bbox."""
    rng = np.random.default_rng(seed)
    gts: list[dict[str, Any]] = []
    dts: list[dict[str, Any]] = []
    for image in range(1, 13):
        for _ in range(int(rng.integers(0, 7))):
            cy, cx, cat = rng.uniform(4, H - 4), rng.uniform(4, W - 4), int(rng.integers(1, 4))
            seg = _mask(rng, cy, cx)
            crowd = int(rng.random() < 0.1)
            gts.append({"id": len(gts) + 1, "image_id": image, "category_id": cat, "iscrowd": crowd,
                        "segmentation": seg, "bbox": mask_utils.toBbox(seg).tolist(),
                        "area": float(mask_utils.area(seg))})
            for _ in range(int(rng.integers(0, 3))):
                dy, dx = rng.normal(0, 2, 2)
                dts.append({"image_id": image, "category_id": cat, "segmentation": _mask(rng, cy + dy, cx + dx),
                            "score": float(rng.integers(1, 6)) / 5})
        for _ in range(int(rng.integers(0, 3))):
            dts.append({"image_id": image, "category_id": int(rng.integers(1, 4)), "score": float(rng.random()),
                        "segmentation": _mask(rng, rng.uniform(0, H), rng.uniform(0, W))})
    images = [{"id": i, "width": W, "height": H} for i in range(1, 13)]
    cats = [{"id": c, "name": f"class{c}"} for c in (1, 2, 3)]
    return {"images": images, "annotations": gts, "categories": cats}, dts


@pytest.mark.parametrize("seed", range(6))
def test_masks_equal_pycocotools_segm(seed: int) -> None:
    gt_doc, results = mask_documents(seed)
    got = ours(gt_doc, results, geometry="mask")
    assert got.geometry == "mask"
    assert_like_pycocotools(got, gt_doc, results, iou_type="segm")


def test_unscored_automation_is_refused() -> None:
    gt_doc, _ = random_coco_pair(0, n_images=5)
    manual = parse_ground_truth(gt_doc, "gt.json")
    with pytest.raises(InvalidInput, match="score"):
        coco_summary(parse_automation(gt_doc, "second.json", manual), manual)


class CountingBoxes(BoxGeometry):
    def __init__(self) -> None:
        self.calls = 0

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        self.calls += 1
        return super().pair_iou(dt, gt, dt_idx, gt_idx)


def sides(seed: int) -> tuple[Annotations, Annotations]:
    gt_doc, results = random_coco_pair(seed, n_images=10)
    manual = parse_ground_truth(gt_doc, "gt.json")
    return parse_automation(results, "results.json", manual), manual


def test_remembered_iou_computes_a_repeated_question_once() -> None:
    automation, manual = sides(3)
    inner = CountingBoxes()
    remembered = RememberedIoU(inner)
    dt, gt = automation.objects, manual.objects
    i, j = np.arange(5), np.arange(5)
    first = remembered.pair_iou(dt, gt, i, j)
    again = remembered.pair_iou(dt, gt, i.copy(), j.copy())
    assert inner.calls == 1 and again is first and not first.flags.writeable
    other = remembered.pair_iou(dt, gt, i, j[::-1].copy())
    assert inner.calls == 2 and np.array_equal(other, inner.pair_iou(dt, gt, i, j[::-1].copy()))
    remembered.pair_iou(automation.objects.take(np.arange(len(dt))), gt, i, j[::-1].copy())  # other objects
    assert inner.calls == 4
