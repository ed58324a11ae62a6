"""Published detection files (``../shared/realdata``): per-image TP/FP/FN equal pycocotools', boxes and masks.

The files are read the way ``shadowqa compare`` reads them (``services.io``:
polygons rasterised by pycocotools, segmentation results without ``bbox``
boxed from their masks); pycocotools reads the original files itself.
"""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from analysis.annotations import Annotations, parse_automation, parse_ground_truth
from analysis.annotations.rle import decode_counts
from analysis.geometry import MaskGeometry
from analysis.matching import MatchOptions
from services.io.annotation_files import load_automation, load_manual
from services.io.files import read_json
from tests.analysis.matching.test_coco_equivalence import nonzero, our_counts
from tests.utils.pycoco import pycocotools_counts
from tests.utils.realdata import realdata
from tests.utils.text_boxes import text_boxes_to_coco

COCOAPI_GT = "cocoapi_val2014_100/instances_val2014_100.json"  # polygons, 9 crowd RLE regions
FAKE_BBOX = "cocoapi_val2014_100/instances_val2014_fakebbox100_results.json"
FAKE_SEGM = "cocoapi_val2014_100/instances_val2014_fakesegm100_results.json"  # RLE masks, no bbox
RODM_GT = "rodm_coco_eval/sampled_gts_bbox_area.json"

# (IoU threshold, area range, maxDets): COCO's defaults, a strict threshold, and a size bucket with few detections
SETTINGS = [(0.5, (0.0, 1e10), 100), (0.75, (0.0, 1e10), 100), (0.5, (32.0**2, 96.0**2), 10)]

JSON_CASES = [
    pytest.param(COCOAPI_GT, FAKE_BBOX, "box", id="cocoapi-bbox"),
    pytest.param(COCOAPI_GT, FAKE_SEGM, "mask", id="cocoapi-segm-masks"),
    pytest.param(COCOAPI_GT, FAKE_SEGM, "box", id="cocoapi-segm-boxes-from-masks"),
    pytest.param(RODM_GT, FAKE_BBOX, "box", id="rodm-bbox"),
]


def read_pair(gt_file: str, dt_file: str, geometry: str) -> tuple[Annotations, Annotations]:
    masks = geometry == "mask"
    manual = load_manual(realdata(gt_file), with_masks=masks)
    return manual, load_automation(realdata(dt_file), manual, with_masks=masks)


@pytest.mark.parametrize(("iou", "area_range", "max_dets"), SETTINGS)
@pytest.mark.parametrize(("gt_file", "dt_file", "geometry"), JSON_CASES)
def test_coco_json_files_count_like_pycocotools(
    gt_file: str, dt_file: str, geometry: str, iou: float, area_range: tuple[float, float], max_dets: int,
) -> None:
    manual, automation = read_pair(gt_file, dt_file, geometry)
    options = MatchOptions(method="coco", geometry=geometry, iou_threshold=iou, area_range=area_range,
                           max_dets=max_dets)
    expected = pycocotools_counts(
        read_json(realdata(gt_file)), read_json(realdata(dt_file)), iou=iou, area_range=area_range,
        max_dets=max_dets, iou_type="segm" if geometry == "mask" else "bbox",
    )
    ours = our_counts(automation, manual, options)
    assert ours == nonzero(expected)
    assert sum(tp for tp, _, _ in ours.values()) > 50  # the case matches something


def text_pair(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if name == "padilla_odm":  # 200x200 images per the sample's README
        return text_boxes_to_coco(realdata("padilla_odm/groundtruths/00001.txt").parent,
                                  realdata("padilla_odm/detections/00001.txt").parent,
                                  corners=False, image_size=(200, 200))
    return text_boxes_to_coco(realdata("cartucho_map/ground-truth/2007_000027.txt").parent,
                              realdata("cartucho_map/detection-results/2007_000027.txt").parent, corners=True)


@pytest.mark.parametrize(("iou", "area_range", "max_dets"), [*SETTINGS, (0.3, (0.0, 1e10), 100)])
@pytest.mark.parametrize("name", ["padilla_odm", "cartucho_map"])
def test_text_box_files_count_like_pycocotools(
    name: str, iou: float, area_range: tuple[float, float], max_dets: int,
) -> None:
    gt_doc, results = text_pair(name)
    manual = parse_ground_truth(gt_doc, name)
    automation = parse_automation(results, name, manual)
    options = MatchOptions(method="coco", iou_threshold=iou, area_range=area_range, max_dets=max_dets)
    expected = pycocotools_counts(gt_doc, results, iou=iou, area_range=area_range, max_dets=max_dets)
    assert our_counts(automation, manual, options) == nonzero(expected)


@pytest.mark.parametrize(("iou", "published"), [(0.5, (1, 23, 14)), (0.75, (0, 24, 15))])
def test_padilla_sample_totals_are_the_published_ones(iou: float, published: tuple[int, int, int]) -> None:
    """review_object_detection_metrics tests/test_eval_pascal.py: VOC AP 0.0222 at IoU 0.5 is one true
    positive ranked third among 24 detections of 15 persons; 0 at 0.75 is none (SOURCES.md)."""
    gt_doc, results = text_pair("padilla_odm")
    manual = parse_ground_truth(gt_doc, "padilla_odm")
    counts = our_counts(parse_automation(results, "padilla_odm", manual), manual,
                        MatchOptions(method="coco", iou_threshold=iou))
    assert tuple(int(sum(c[i] for c in counts.values())) for i in range(3)) == published


def test_polygon_masks_are_pycocotools_own() -> None:
    """Every polygon of the cocoapi sample rasterises to the RLE pycocotools' ``annToRLE`` gives."""
    manual = load_manual(realdata(COCOAPI_GT), with_masks=True)
    doc = read_json(realdata(COCOAPI_GT))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(doc)
        coco.createIndex()
    expected = {a["id"]: coco.annToRLE(a) for a in doc["annotations"]}
    masks = manual.objects.masks
    assert masks is not None and sum(isinstance(a["segmentation"], list) for a in doc["annotations"]) == 830
    for i, ann_id in enumerate(manual.objects.ann_id.tolist()):
        mask, ref = masks[i], expected[ann_id]
        assert mask is not None and [mask.height, mask.width] == list(ref["size"])
        assert mask.counts == decode_counts(ref["counts"].decode("ascii")), ann_id


def test_mask_iou_equals_pycocotools_on_every_candidate_pair() -> None:
    """The IoU matrices pycocotools' ``computeIoU`` builds per image and class (segm), value for value."""
    manual, automation = read_pair(COCOAPI_GT, FAKE_SEGM, "mask")
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = read_json(realdata(COCOAPI_GT))
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(read_json(realdata(FAKE_SEGM))), "segm")
        ev.evaluate()
    dt, gto = automation.objects, manual.objects
    compared = 0
    for (image_id, category_id), expected in ev.ious.items():
        if len(expected) == 0:
            continue
        f, k = manual.images.index[image_id], int(manual.categories.index_of(np.array([category_id]))[0])
        d = np.flatnonzero((dt.frame == f) & (dt.category == k))
        d = d[np.argsort(-dt.score[d], kind="stable")]
        g = np.flatnonzero((gto.frame == f) & (gto.category == k))
        di, gi = np.repeat(d, len(g)), np.tile(g, len(d))
        ours = MaskGeometry().pair_iou(dt, gto, di, gi).reshape(len(d), len(g))
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)
        compared += ours.size
    assert compared > 500
