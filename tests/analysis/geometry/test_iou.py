"""Box and mask IoU equal pycocotools' ``maskUtils.iou`` (boxes bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from analysis.annotations import rle
from analysis.geometry import box_iou


@pytest.mark.parametrize("seed", range(5))
def test_box_iou_is_bit_identical_to_pycocotools(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = np.hstack([rng.uniform(0, 50, (30, 2)), rng.uniform(0, 30, (30, 2))]).round(rng.integers(0, 3))
    g = np.hstack([rng.uniform(0, 50, (20, 2)), rng.uniform(0, 30, (20, 2))]).round(1)
    crowd = rng.random(20) < 0.3
    expected = mask_utils.iou(d.tolist(), g.tolist(), crowd.astype(np.uint8).tolist())
    di, gi = np.repeat(np.arange(30), 20), np.tile(np.arange(20), 30)
    ours = box_iou(d[di], g[gi], crowd[gi]).reshape(30, 20)
    assert np.array_equal(ours, expected)


@pytest.mark.parametrize(
    ("d", "g", "crowd", "expected"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], False, 1.0),
        ([0, 0, 10, 10], [10, 0, 10, 10], False, 0.0),  # touching edges do not overlap
        ([0, 0, 10, 10], [5, 0, 10, 10], False, 50 / 150),
        ([0, 0, 10, 10], [0, 0, 100, 100], True, 1.0),  # crowd: intersection over detection area
        ([0, 0, 0, 10], [0, 0, 10, 10], False, 0.0),  # zero-width box
    ],
)
def test_box_iou_table(d: list[float], g: list[float], crowd: bool, expected: float) -> None:
    out = box_iou(np.array([d], float), np.array([g], float), np.array([crowd]))
    assert out[0] == pytest.approx(expected, abs=1e-15)


def _random_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    y, x = rng.integers(0, h), rng.integers(0, w)
    m[y : y + rng.integers(1, h), x : x + rng.integers(1, w)] = True
    m ^= rng.random((h, w)) < 0.05
    return m


@pytest.mark.parametrize("seed", range(8))
def test_rle_codec_area_and_iou_match_pycocotools(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 60)), int(rng.integers(1, 60))
    a, b = _random_mask(rng, h, w), _random_mask(rng, h, w)
    ref_a = mask_utils.encode(np.asfortranarray(a.astype(np.uint8)))
    ref_b = mask_utils.encode(np.asfortranarray(b.astype(np.uint8)))
    ours_a, ours_b = rle.encode(a), rle.encode(b)
    assert rle.encode_counts(ours_a.counts) == ref_a["counts"].decode()
    assert rle.decode_counts(ref_a["counts"].decode()) == ours_a.counts
    assert np.array_equal(rle.decode(ours_a), mask_utils.decode(ref_a).astype(bool))
    assert rle.area(ours_a) == int(mask_utils.area(ref_a))
    for crowd in (False, True):
        expected = mask_utils.iou([ref_a], [ref_b], [int(crowd)])[0, 0]
        assert rle.iou(ours_a, ours_b, crowd) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("text", ["", "0", "11", "PPYo0", "1;4N2"])
def test_counts_string_round_trip(text: str) -> None:
    counts = rle.decode_counts(text)
    assert rle.encode_counts(counts) == text


@pytest.mark.parametrize(("text", "problem"), [("\x7f", "invalid character"), ("o", "middle of a number")])
def test_bad_counts_string(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        rle.decode_counts(text)
