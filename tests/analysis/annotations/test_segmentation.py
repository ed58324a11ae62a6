"""Segmentations: the box of an RLE mask, results without ``bbox``, and polygons refused without a rasteriser.

Boxes and areas are checked against pycocotools' ``toBbox`` and ``loadRes``,
which is what COCO evaluation reads from the same records.
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from analysis.annotations import parse_automation, parse_ground_truth, rle
from analysis.annotations.model import Rle
from analysis.annotations.polygons import Polygon
from analysis.exceptions import InvalidInput

H, W = 24, 32


def random_counts(rng: np.random.Generator, h: int, w: int) -> list[int]:
    """Run lengths covering h*w pixels, odd ones included: empty runs, a leading 0, a trailing empty run."""
    n = h * w
    cuts = np.sort(rng.integers(0, n + 1, size=int(rng.integers(0, 9))))
    counts = np.diff(np.r_[0, cuts, n]).tolist()
    if rng.random() < 0.3:
        counts.append(0)
    if rng.random() < 0.2:
        counts.insert(0, 0)
    return [int(c) for c in counts]


@pytest.mark.parametrize("seed", range(6))
def test_box_of_a_mask_equals_pycocotools_to_bbox(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(400):
        h, w = int(rng.integers(1, 14)), int(rng.integers(1, 14))
        counts = random_counts(rng, h, w)
        expected = mask_utils.toBbox(mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w))
        assert rle.bbox(Rle(h, w, tuple(counts))) == tuple(expected.tolist()), (h, w, counts)


@pytest.mark.parametrize(
    ("h", "w", "counts", "box"),
    [
        (4, 5, (20,), (0.0, 0.0, 0.0, 0.0)),  # empty
        (4, 5, (0, 20), (0.0, 0.0, 5.0, 4.0)),  # full
        (4, 5, (5, 2, 13), (1.0, 1.0, 1.0, 2.0)),  # inside one column
        (4, 5, (6, 3, 11), (1.0, 0.0, 2.0, 4.0)),  # a run wrapping into the next column spans the full height
        (1, 10, (10, 0), (10.0, 1.0, 2.0**32 - 9, 0.0)),  # pycocotools' unsigned arithmetic on an empty run
    ],
)
def test_box_of_a_mask_table(h: int, w: int, counts: tuple[int, ...], box: tuple[float, ...]) -> None:
    assert rle.bbox(Rle(h, w, counts)) == box


def _mask_record(rng: np.random.Generator) -> dict[str, Any]:
    mask = np.zeros((H, W), dtype=np.uint8)
    y, x = int(rng.integers(0, H - 2)), int(rng.integers(0, W - 2))
    mask[y: y + int(rng.integers(1, 10)), x: x + int(rng.integers(1, 12))] = 1
    mask ^= (rng.random((H, W)) < 0.03).astype(np.uint8)
    code = mask_utils.encode(np.asfortranarray(mask))
    return {"size": [H, W], "counts": code["counts"].decode()}


def _documents(seed: int, with_bbox: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    images = [{"id": i, "width": W, "height": H} for i in (1, 2, 3)]
    gt = {"images": images, "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}], "annotations": []}
    results = []
    for _ in range(12):
        rec = {"image_id": int(rng.integers(1, 4)), "category_id": int(rng.integers(1, 3)),
               "segmentation": _mask_record(rng), "score": float(rng.random())}
        if with_bbox:
            rec["bbox"] = [float(v) for v in rng.uniform(0, 20, 4).round(1)]
        results.append(rec)
    return gt, results


def _load_res(gt_doc: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt_doc)
        coco.createIndex()
        loaded: list[dict[str, Any]] = coco.loadRes(copy.deepcopy(results)).dataset["annotations"]
    return loaded


@pytest.mark.parametrize("with_masks", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_results_without_bbox_get_box_and_area_as_pycocotools_load_res(seed: int, with_masks: bool) -> None:
    gt_doc, results = _documents(seed, with_bbox=False)
    manual = parse_ground_truth(gt_doc, "gt.json")
    ours = parse_automation(results, "segm.json", manual, with_masks=with_masks)
    loaded = _load_res(gt_doc, results)
    order = np.argsort([manual.images.index[r["image_id"]] for r in results], kind="stable")
    np.testing.assert_array_equal(ours.objects.boxes, [list(loaded[i]["bbox"]) for i in order])
    np.testing.assert_array_equal(ours.objects.area, [float(loaded[i]["area"]) for i in order])
    assert (ours.objects.masks is not None) == with_masks


@pytest.mark.parametrize("seed", range(3))
def test_results_with_bbox_keep_it_and_take_its_area_as_pycocotools_load_res(seed: int) -> None:
    """loadRes reads a file whose first record has a box as boxes: area = w*h even when masks are read."""
    gt_doc, results = _documents(seed, with_bbox=True)
    manual = parse_ground_truth(gt_doc, "gt.json")
    ours = parse_automation(results, "both.json", manual, with_masks=True)
    loaded = _load_res(gt_doc, results)
    order = np.argsort([manual.images.index[r["image_id"]] for r in results], kind="stable")
    np.testing.assert_array_equal(ours.objects.boxes, [results[i]["bbox"] for i in order])
    np.testing.assert_array_equal(ours.objects.area, [float(loaded[i]["area"]) for i in order])


def test_ground_truth_without_bbox_gets_the_mask_box_and_keeps_its_area() -> None:
    seg = _mask_record(np.random.default_rng(0))
    doc = {"images": [{"id": 1, "width": W, "height": H}], "categories": [{"id": 1, "name": "car"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": seg, "area": 7.5},
                           {"id": 2, "image_id": 1, "category_id": 1, "segmentation": seg}]}
    manual = parse_ground_truth(doc, "gt.json")
    expected = mask_utils.toBbox({"size": [H, W], "counts": seg["counts"].encode()}).tolist()
    assert manual.objects.boxes.tolist() == [expected, expected]
    assert manual.objects.area.tolist() == [7.5, float(mask_utils.area({"size": [H, W], "counts": seg["counts"]}))]
    assert manual.objects.masks is None


@pytest.mark.parametrize("record", [{}, {"segmentation": None}])
def test_a_record_with_neither_box_nor_mask_is_refused(record: dict[str, Any]) -> None:
    doc = {"images": [{"id": 1, "width": W, "height": H}], "categories": [{"id": 1, "name": "car"}]}
    manual = parse_ground_truth({**doc, "annotations": []}, "gt.json")
    with pytest.raises(InvalidInput, match=r"\[0\]: missing required field 'bbox'"):
        parse_automation([{"image_id": 1, "category_id": 1, "score": 0.5, **record}], "r.json", manual)


POLYGON = [[2.0, 2.0, 20.0, 3.0, 12.0, 15.0]]


def polygon_doc(segmentation: Any, *, width: int = W, height: int = H) -> dict[str, Any]:
    return {"images": [{"id": 1, "width": width, "height": height}], "categories": [{"id": 1, "name": "car"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 18, 13], "area": 120,
                             "segmentation": segmentation}]}


def test_a_polygon_without_a_rasteriser_is_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="polygon segmentation needs a rasteriser") as err:
        parse_ground_truth(polygon_doc(POLYGON), "gt.json", with_masks=True)
    assert err.value.where == "annotations[0].segmentation"


def test_box_mode_never_reads_polygons() -> None:
    manual = parse_ground_truth(polygon_doc([[1.0, "x"]]), "gt.json")
    assert manual.objects.masks is None and manual.objects.boxes.tolist() == [[2.0, 2.0, 18.0, 13.0]]


class Recorder:
    """A stand-in rasteriser: records what the reader hands over, returns an empty mask."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[list[float]], int, int]] = []

    def __call__(self, parts: Sequence[Polygon], height: int, width: int) -> Rle:
        self.calls.append(([list(p) for p in parts], height, width))
        return Rle(height, width, (height * width,))


def test_the_rasteriser_gets_every_part_as_floats_and_the_image_size() -> None:
    recorder = Recorder()
    parts = [[1, 1, 5, 1, 5, 5], [10.5, 10, 12, 10, 12, 12, 10, 12]]
    manual = parse_ground_truth(polygon_doc(parts), "gt.json", with_masks=True, rasterise=recorder)
    assert recorder.calls == [([[float(v) for v in p] for p in parts], H, W)]
    assert manual.objects.masks is not None and manual.objects.masks[0] == Rle(H, W, (H * W,))


@pytest.mark.parametrize(
    ("segmentation", "where", "problem"),
    [
        ([], "segmentation", "empty polygon list"),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "segmentation[0]", "a segmentation is a list of polygons"),
        ([[1.0, 2.0, 3.0, 4.0]], "segmentation[0]", "at least 6 numbers"),  # pycocotools reads 4 as a box
        ([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]], "segmentation[0]", "even count"),
        ([POLYGON[0], [1.0, 2.0, 3.0, 4.0, "5", 6.0]], "segmentation[1][4]", "expected a number"),
        ([[1.0, 2.0, 3.0, 4.0, float("nan"), 6.0]], "segmentation[0][4]", "must be finite"),
        ([[1.0, 2.0, 3.0, 4.0, True, 6.0]], "segmentation[0][4]", "expected a number"),
        ("rle?", "segmentation", "expected an object"),
    ],
)
def test_malformed_polygons_are_refused_naming_the_place(segmentation: Any, where: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as err:
        parse_ground_truth(polygon_doc(segmentation), "gt.json", with_masks=True, rasterise=Recorder())
    assert err.value.where == f"annotations[0].{where}"


def test_a_polygon_on_an_image_without_size_is_refused() -> None:
    with pytest.raises(InvalidInput, match="width and height"):
        parse_ground_truth(polygon_doc(POLYGON, width=0, height=0), "gt.json", with_masks=True,
                           rasterise=Recorder())
