"""scikit-learn's bundled 8x8 digits (``builtin:digits``) with the one split the whole project uses.

The split is fixed so that a classifier trained here, its calibration and its
evaluation never see each other's frames::

    X_trainfull, X_test = train_test_split(X, test_size=0.25, random_state=0, stratify=y)
    X_train, X_calib = train_test_split(X_trainfull, test_size=0.2, random_state=1, stratify=y_trainfull)

Frames keep the order ``train_test_split`` returns them in; a frame's id is its
index in scikit-learn's full data set plus one, the same in every split.

A second camera (:func:`second_camera`) is the replay's case of strata that
differ: a share of the frames, fixed per frame id, comes from a camera whose
crop sits one pixel lower. The classifier, trained on the first camera's
frames, errs on those and is often confident when it does (measured on the
``all`` split with every frame shifted: 55 % right, and 84 % right among the
30 % it gives a confidence of at least 0.99, against 100 % unshifted).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.exceptions import InvalidInput

SPLITS: tuple[str, ...] = ("train", "calibration", "test", "all")
SIZE = 8
PIXEL_SCALE = 15  # scikit-learn's 0..16 intensities become 0..240
FOLDER = "digits"


@dataclass(frozen=True, eq=False)
class DigitsSplit:
    """The frames of one split: (n, 8, 8, 1) uint8 images, digit labels and frame ids (read-only)."""

    name: str
    images: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.int64]
    ids: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.ids)


def second_camera(ids: npt.NDArray[np.int64], share: float) -> npt.NDArray[np.bool_]:
    """Which of the frames ``ids`` come from the second camera when ``share`` of all frames do (the same frames
    in every split and order: a fixed uniform draw per frame id)."""
    if not 0.0 <= share <= 1.0:
        raise InvalidInput("builtin:digits", "second camera", f"share must be in [0, 1], got {share}")
    draws = np.random.default_rng(20261202).random(len(_dataset()[1]))
    return np.asarray(draws[np.asarray(ids) - 1] < share)


def shifted_down(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The second camera's view of ``image``: its crop one pixel lower (rows move down, the top row is dark)."""
    out = np.zeros_like(image)
    out[1:] = image[:-1]
    return out


def file_name(frame_id: int) -> str:
    return f"{FOLDER}/{frame_id:06d}.png"


def load_split(split: str) -> DigitsSplit:
    """The frames of ``split`` (one of :data:`SPLITS`)."""
    if split not in SPLITS:
        raise InvalidInput("builtin:digits", "split", f"unknown split {split!r} (expected {', '.join(SPLITS)})")
    images, labels = _dataset()
    index = _split_indices()[split]
    return DigitsSplit(split, _frozen(images[index]), _frozen(labels[index]), _frozen(index + 1))


def ground_truth(split: str) -> dict[str, Any]:
    """A COCO ground-truth document of ``split``: image records tagged with their digit, no objects."""
    data = load_split(split)
    images = [
        {"id": int(i), "width": SIZE, "height": SIZE, "file_name": file_name(int(i)), "tags": {"digit": str(int(y))}}
        for i, y in zip(data.ids, data.labels, strict=True)
    ]
    return {
        "info": {"description": f"scikit-learn digits, {split} split", "version": 1},
        "images": images, "annotations": [], "categories": [],
    }


@functools.cache
def _dataset() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    from sklearn.datasets import load_digits  # imported on first use: it takes about a second

    digits = load_digits()
    images = (np.asarray(digits.images) * PIXEL_SCALE).astype(np.uint8)[..., None]
    return images, np.asarray(digits.target, dtype=np.int64)


@functools.cache
def _split_indices() -> dict[str, npt.NDArray[np.int64]]:
    """Indices into the full data set of each split, in ``train_test_split``'s order."""
    from sklearn.model_selection import train_test_split

    _, labels = _dataset()
    everything = np.arange(len(labels), dtype=np.int64)
    trainfull, test = train_test_split(everything, test_size=0.25, random_state=0, stratify=labels)
    train, calibration = train_test_split(trainfull, test_size=0.2, random_state=1, stratify=labels[trainfull])
    return {"train": train, "calibration": calibration, "test": test, "all": everything}


def _frozen(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a = np.array(a)
    a.flags.writeable = False
    return a
