"""``shadowqa compare`` reports COCO AP/AR equal to the stats other projects published for their files.

Runs the real CLI entry on the files in ``../shared/realdata`` (read in place)
and checks ``summary.coco`` in ``--json``, the table, and the per-image counts.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from analysis.detection import STAT_NAMES
from services.cli.main import main
from services.io.files import read_json, write_json
from tests.utils.pycoco import pycocotools_counts
from tests.utils.realdata import realdata

GT = "cocoapi_val2014_100/instances_val2014_100.json"
FAKE_BBOX = "cocoapi_val2014_100/instances_val2014_fakebbox100_results.json"
FAKE_SEGM = "cocoapi_val2014_100/instances_val2014_fakesegm100_results.json"
RODM_GT = "rodm_coco_eval/sampled_gts_bbox_area.json"

# cocoapi's fake results on its 100 val2014 images, COCOeval.stats to 16 digits as published in
# MiXaiLL76/faster_coco_eval tests/test_cocoapi_fake_data.py; cocoapi prints them to 3 digits in
# cocodataset/cocoapi results/val2014_fake_eval_res.txt (checked against the table below).
COCOAPI_BBOX = [
    0.5045806987249628, 0.6969727247299577, 0.5729816669904824, 0.5856257209410443, 0.5193996948036719,
    0.5013978986347466, 0.38681277964578054, 0.5936795762842003, 0.595352982877607, 0.6398109626113442,
    0.5664205978994309, 0.5642905982905982,
]
COCOAPI_SEGM = [
    0.3195452758576433, 0.5622883972521636, 0.29892653412086784, 0.3873740315997838, 0.31018272403369485,
    0.3269339071005138, 0.2682297225711534, 0.41544868114906375, 0.4168394992198818, 0.4694498622754236,
    0.37675922666197265, 0.3814715099715099,
]
# rafaelpadilla/review_object_detection_metrics tests/test_coco_eval.py (tests/test_eval_coco.py in later
# commits): sampled_gts_bbox_area.json with cocoapi's fakebbox100 detections, "results ... obtained with
# coco's official implementation", checked there to 1e-6.
RODM_BBOX = [
    0.503647, 0.696973, 0.571667, 0.593252, 0.557991, 0.489363,
    0.386813, 0.593680, 0.595353, 0.654764, 0.603130, 0.553744,
]
PUBLISHED = [
    pytest.param(GT, FAKE_BBOX, "box", COCOAPI_BBOX, id="cocoapi-bbox"),
    pytest.param(GT, FAKE_SEGM, "mask", COCOAPI_SEGM, id="cocoapi-segm"),
    pytest.param(RODM_GT, FAKE_BBOX, "box", RODM_BBOX, id="review-object-detection-metrics"),
]


def compare(capsys: pytest.CaptureFixture[str], gt: str | Path, dt: str | Path, *args: str) -> str:
    manual = gt if isinstance(gt, Path) else realdata(gt)
    automation = dt if isinstance(dt, Path) else realdata(dt)
    code = main(["compare", "--manual", str(manual), "--automation", str(automation), *args])
    out = capsys.readouterr().out
    assert code == 0
    return out


def summary(capsys: pytest.CaptureFixture[str], gt: str | Path, dt: str | Path, *args: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(compare(capsys, gt, dt, "--json", *args))["summary"]
    return doc


@pytest.mark.parametrize(("gt", "dt", "geometry", "published"), PUBLISHED)
def test_stats_equal_the_published_ones(
    gt: str, dt: str, geometry: str, published: list[float], capsys: pytest.CaptureFixture[str],
) -> None:
    coco = summary(capsys, gt, dt, "--geometry", geometry)["coco"]
    assert coco["computed"] and coco["geometry"] == geometry
    assert list(coco["stats"]) == list(STAT_NAMES)
    assert list(coco["stats"].values()) == pytest.approx(published, abs=1e-6)


def pycocotools_eval(gt: str, dt: str, iou_type: str) -> COCOeval:
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(str(realdata(gt)))
        ev = COCOeval(coco_gt, coco_gt.loadRes(str(realdata(dt))), iou_type)
        ev.evaluate()
        ev.accumulate()
    return ev


@pytest.mark.parametrize(("dt", "geometry", "iou_type"), [(FAKE_BBOX, "box", "bbox"), (FAKE_SEGM, "mask", "segm")])
def test_per_class_ap_equals_pycocotools_precision_array(
    dt: str, geometry: str, iou_type: str, capsys: pytest.CaptureFixture[str],
) -> None:
    per_class = summary(capsys, GT, dt, "--geometry", geometry)["coco"]["per_class"]
    ev = pycocotools_eval(GT, dt, iou_type)
    precision = ev.eval["precision"][:, :, :, 0, 2]  # every IoU threshold and recall point; area all, 100 dets
    names = {c["id"]: c["name"] for c in read_json(realdata(GT))["categories"]}
    defined = 0
    for k, category_id in enumerate(ev.params.catIds):
        values = precision[:, :, k]
        expected = {"AP": values, "AP50": values[0], "AP75": values[5]}
        for key, v in expected.items():
            kept = v[v > -1]
            got = per_class[names[category_id]][key]
            assert (got is None) if not kept.size else got == pytest.approx(float(np.mean(kept)), abs=1e-12)
        defined += bool((values > -1).any())
    assert defined > 50


def test_table_prints_what_cocoapi_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """cocoapi's own output for its fake results, three decimals per line, in the table's COCO block."""
    text = realdata("cocoapi_val2014_100/val2014_fake_eval_res.txt").read_text()
    printed = {kind: [float(v) for v in re.findall(r"\] = (\d\.\d{3})", block)[:12]]
               for kind, block in re.findall(r"type=(\w+)\n(.*?)(?=\n-{20}|\Z)", text, re.S)}
    for dt, geometry, kind in ((FAKE_BBOX, "box", "bbox"), (FAKE_SEGM, "mask", "segm")):
        lines = compare(capsys, GT, dt, "--geometry", geometry).splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("COCO AP/AR"))
        shown = [float(v) for v in re.findall(r" (\d\.\d{3})", " ".join(lines[start + 1: start + 3]))]
        assert shown == printed[kind] and len(shown) == 12, kind
        header = next(line for line in lines if line.lstrip().startswith("frames"))
        assert header.split()[-2:] == ["AP", "AP50"]


def test_per_image_counts_through_the_cli_equal_pycocotools_segm(capsys: pytest.CaptureFixture[str]) -> None:
    out = compare(capsys, GT, FAKE_SEGM, "--geometry", "mask", "--matching", "coco", "--json", "--no-ap")
    frames = json.loads(out)["frames"]
    ours = {f["image_id"]: (f["tp"], f["fp"], f["fn"]) for f in frames if f["tp"] or f["fp"] or f["fn"]}
    expected = pycocotools_counts(read_json(realdata(GT)), read_json(realdata(FAKE_SEGM)), iou_type="segm")
    assert ours == {k: v for k, v in expected.items() if any(v)}


def test_without_scores_ap_is_not_computed_and_no_zeros_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """A second ground truth as the machine side has nothing to rank by."""
    doc = read_json(realdata(RODM_GT))
    coco = summary(capsys, GT, realdata(RODM_GT))["coco"]
    assert coco == {"computed": False,
                    "reason": "the automation side has no scores, and AP ranks detections by score"}
    table = compare(capsys, GT, realdata(RODM_GT))
    assert "COCO AP/AR: not computed (the automation side has no scores" in table
    assert "AP50" not in table and "0.000" not in table
    doc["annotations"][0]["score"] = 0.5  # one scored object is not a ranking either
    write_json(tmp_path / "one_score.json", doc)
    reason = summary(capsys, GT, tmp_path / "one_score.json")["coco"]["reason"]
    assert reason == f"{len(doc['annotations']) - 1} of {len(doc['annotations'])} automation objects have no " \
                     "score to rank them by"


def test_no_ap_skips_it(capsys: pytest.CaptureFixture[str]) -> None:
    s = summary(capsys, GT, FAKE_BBOX, "--no-ap")
    assert s["coco"] == {"computed": False, "reason": "not requested"}
    assert s["tp"] > 0
