"""The project's fixed split of scikit-learn's digits: disjoint, complete, stable ids, the documented sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from analysis.annotations import parse_ground_truth
from analysis.exceptions import InvalidInput
from services.datasets import digits

N = 1797  # scikit-learn's digits
N_TEST = math.ceil(0.25 * N)
N_CALIBRATION = math.ceil(0.2 * (N - N_TEST))
SIZES = {"test": N_TEST, "calibration": N_CALIBRATION, "train": N - N_TEST - N_CALIBRATION, "all": N}


@pytest.mark.parametrize(("split", "size"), SIZES.items())
def test_split_sizes_follow_the_rule(split: str, size: int) -> None:
    data = digits.load_split(split)
    assert len(data) == size
    assert data.images.shape == (size, 8, 8, 1) and data.images.dtype == np.uint8
    assert data.labels.shape == (size,) and data.ids.shape == (size,)


def test_sizes_are_the_known_numbers() -> None:
    assert (SIZES["train"], SIZES["calibration"], SIZES["test"]) == (1077, 270, 450)


def test_splits_are_disjoint_and_cover_the_data_set() -> None:
    ids = {s: set(digits.load_split(s).ids.tolist()) for s in ("train", "calibration", "test")}
    assert not ids["train"] & ids["calibration"] and not ids["train"] & ids["test"]
    assert not ids["calibration"] & ids["test"]
    assert ids["train"] | ids["calibration"] | ids["test"] == set(range(1, N + 1))
    assert digits.load_split("all").ids.tolist() == list(range(1, N + 1))


def test_splits_equal_the_documented_train_test_split_calls() -> None:
    x, y = load_digits(return_X_y=True)
    x_trainfull, x_test, y_trainfull, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    x_train, x_calib, y_train, y_calib = train_test_split(
        x_trainfull, y_trainfull, test_size=0.2, random_state=1, stratify=y_trainfull
    )
    for split, xs, ys in (("train", x_train, y_train), ("calibration", x_calib, y_calib), ("test", x_test, y_test)):
        data = digits.load_split(split)
        assert np.array_equal(data.images.reshape(len(data), 64), (xs * 15).astype(np.uint8))
        assert np.array_equal(data.labels, ys)


@pytest.mark.parametrize("split", digits.SPLITS)
def test_a_frame_id_names_the_same_image_in_every_split(split: str) -> None:
    full = load_digits()
    data = digits.load_split(split)
    index = data.ids - 1
    assert np.array_equal(data.images[..., 0], (full.images[index] * 15).astype(np.uint8))
    assert np.array_equal(data.labels, full.target[index])


def test_pixels_are_scaled_so_sixteen_is_240() -> None:
    images = digits.load_split("all").images
    assert images.max() == 240 and set(np.unique(images).tolist()) <= {15 * v for v in range(17)}


def test_splits_are_stratified() -> None:
    all_counts = np.bincount(digits.load_split("all").labels, minlength=10)
    test_counts = np.bincount(digits.load_split("test").labels, minlength=10)
    assert np.abs(test_counts - all_counts * N_TEST / N).max() <= 1


def test_arrays_are_read_only() -> None:
    with pytest.raises(ValueError, match="read-only"):
        digits.load_split("test").images[0, 0, 0, 0] = 1


def test_ground_truth_lists_the_frames_with_their_digit() -> None:
    doc = digits.ground_truth("calibration")
    data = digits.load_split("calibration")
    parsed = parse_ground_truth(doc, "digits")
    assert parsed.images.ids.tolist() == data.ids.tolist()
    assert doc["annotations"] == [] and doc["categories"] == []
    first = doc["images"][0]
    assert first == {"id": int(data.ids[0]), "width": 8, "height": 8,
                     "file_name": f"digits/{int(data.ids[0]):06d}.png", "tags": {"digit": str(int(data.labels[0]))}}


def test_unknown_split_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="unknown split 'dev'"):
        digits.load_split("dev")
