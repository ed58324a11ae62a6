"""Coercion of the model's columns to read-only numpy arrays, each failure naming the column and the row."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.tracking.exceptions import InvalidTracks

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_INT64_LIMIT = 2.0**63


def frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.setflags(write=False)
    return array


def _numeric(values: Any, name: str, source: str, ndim: int) -> npt.NDArray[Any]:
    array = np.asarray(values)
    if array.size == 0:
        array = array.reshape((0,) if ndim == 1 else (0, 4))
    real = np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    if not real:
        raise InvalidTracks(source, name, f"expected real numbers, got {array.dtype} values")
    if array.ndim != ndim:
        raise InvalidTracks(source, name, f"expected {ndim} dimension(s), got shape {array.shape}")
    return array


def integers(values: Any, name: str, source: str, rows: int | None) -> IntArray:
    """A 1-D int64 column; floats are accepted when they hold whole numbers that fit in 64 bits."""
    array = _numeric(values, name, source, 1)
    _check_rows(array, name, source, rows)
    if np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array) | (array != np.round(array)) | (np.abs(array) >= _INT64_LIMIT)
        if bad.any():
            i = int(np.argmax(bad))
            raise InvalidTracks(source, f"{name}[{i}]", f"expected a whole number, got {array[i]!r}")
    elif array.dtype == np.uint64 and array.size and int(array.max()) >= 2**63:
        i = int(np.argmax(array >= 2**63))
        raise InvalidTracks(source, f"{name}[{i}]", f"does not fit in 64 bits, got {array[i]}")
    return frozen(array.astype(np.int64))


def reals(values: Any, name: str, source: str, rows: int | None) -> FloatArray:
    """A 1-D float64 column of finite numbers."""
    array = _numeric(values, name, source, 1).astype(np.float64)
    _check_rows(array, name, source, rows)
    _check_finite(array, name, source)
    return frozen(array)


def boxes(values: Any, source: str, rows: int) -> FloatArray:
    """An (n, 4) float64 array of finite xywh boxes with non-negative width and height."""
    array = _numeric(values, "boxes", source, 2).astype(np.float64)
    if array.shape != (rows, 4):
        raise InvalidTracks(source, "boxes", f"expected shape ({rows}, 4) as [x, y, width, height], got {array.shape}")
    _check_finite(array, "boxes", source)
    negative = array[:, 2:] < 0
    if negative.any():
        i, k = np.argwhere(negative)[0]
        raise InvalidTracks(source, f"boxes[{i}]", f"{('width', 'height')[k]} is negative ({array[i, 2 + k]!r})")
    return frozen(array)


def _check_rows(array: npt.NDArray[Any], name: str, source: str, rows: int | None) -> None:
    if rows is not None and array.shape[0] != rows:
        raise InvalidTracks(source, name, f"expected {rows} values (one per row), got {array.shape[0]}")


def _check_finite(array: FloatArray, name: str, source: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        index = np.argwhere(bad)[0]
        raise InvalidTracks(source, f"{name}[{index[0]}]", f"must be finite, got {array[tuple(index)]!r}")
