"""Point clouds as PCD v0.7 files (the Point Cloud Library's format), the form frames' points are served in.

Written: a header, then the points as ``DATA binary`` (N records of four little-endian float32: x, y, z,
intensity) or ``DATA ascii`` (one point a line, 9 significant digits, so every float32 reads back equal)::

    # .PCD v0.7 - Point Cloud Data file format
    VERSION 0.7
    FIELDS x y z intensity
    SIZE 4 4 4 4
    TYPE F F F F
    COUNT 1 1 1 1
    WIDTH 16384
    HEIGHT 1
    VIEWPOINT 0 0 0 1 0 0 0
    POINTS 16384
    DATA binary

Read: ``ascii`` and ``binary`` data with any fields of types F, I or U (sizes 1, 2, 4, 8; counts of one
or more), as PCL and Open3D write them; ``x``, ``y`` and ``z`` are required, ``intensity`` is 0 when
absent, other fields are skipped. ``binary_compressed`` (LZF) is refused with a message. Errors name
the file and the header line or the data at fault.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from services.exceptions import InvalidInput
from services.io.files import read_bytes

Points = npt.NDArray[np.float32]
FIELDS = ("x", "y", "z", "intensity")
_RECORD = np.dtype([(name, "<f4") for name in FIELDS])
_TYPES = {"F": "f", "I": "i", "U": "u"}
_HEADER_KEYS = ("VERSION", "FIELDS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS", "DATA")


def pcd_bytes(points: npt.ArrayLike, *, ascii: bool = False) -> bytes:
    """The PCD file of ``points`` (N, 4: x, y, z, intensity), stored as float32."""
    cloud = _as_points(points)
    n = len(cloud)
    header = (
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z intensity\nSIZE 4 4 4 4\n"
        f"TYPE F F F F\nCOUNT 1 1 1 1\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\n"
        f"DATA {'ascii' if ascii else 'binary'}\n"
    )
    if ascii:
        body = "".join(" ".join(f"{v:.9g}" for v in row) + "\n" for row in cloud.tolist())
        return (header + body).encode("ascii")
    return header.encode("ascii") + cloud.astype("<f4", copy=False).tobytes()


def write_pcd(path: str | Path, points: npt.ArrayLike, *, ascii: bool = False) -> None:
    Path(path).write_bytes(pcd_bytes(points, ascii=ascii))


def read_pcd(path: str | Path) -> Points:
    """The points (N, 4: x, y, z, intensity) float32 of a PCD file."""
    return parse_pcd(read_bytes(path), str(path))


def parse_pcd(data: bytes, source: str = "pcd") -> Points:
    """The points (N, 4: x, y, z, intensity) float32 of a PCD file's bytes; ``source`` names it in errors."""
    header, offset = _header(data, source)
    dtype, n, kind = _layout(header, source)
    if kind == "binary":
        records = _binary(data[offset:], dtype, n, source)
    elif kind == "ascii":
        records = _ascii(data[offset:], dtype, n, source)
    else:
        raise InvalidInput(source, "DATA", f"'{kind}' data is not supported (expected ascii or binary)")
    out = np.zeros((n, 4), dtype=np.float32)
    for i, name in enumerate(FIELDS):
        if name in (dtype.names or ()):
            column = records[name]
            out[:, i] = column if column.ndim == 1 else column.reshape(n, -1)[:, 0]
    return out


def _as_points(points: npt.ArrayLike) -> npt.NDArray[np.float32]:
    cloud = np.asarray(points)
    if cloud.ndim != 2 or cloud.shape[1] != 4 or cloud.dtype.kind not in "fiu":
        raise InvalidInput("points", "", f"expected an (N, 4) array of numbers, got {cloud.dtype} {cloud.shape}")
    return cloud.astype(np.float32, copy=False)


def _header(data: bytes, source: str) -> tuple[dict[str, list[str]], int]:
    """The header's entries by key, and the offset of the data after the ``DATA`` line."""
    header: dict[str, list[str]] = {}
    offset, number = 0, 0
    while "DATA" not in header:
        end = data.find(b"\n", offset)
        if end < 0:
            raise InvalidInput(source, "header", "ends before its DATA line (not a PCD file?)")
        number += 1
        line = data[offset:end].decode("ascii", errors="replace").strip()
        offset = end + 1
        if not line or line.startswith("#"):
            continue
        key, *values = line.split()
        if key not in _HEADER_KEYS:
            raise InvalidInput(source, f"header line {number}", f"unknown entry {key!r} (not a PCD v0.7 header?)")
        header[key] = values
    return header, offset


def _layout(header: dict[str, list[str]], source: str) -> tuple[np.dtype[np.void], int, str]:
    """The record dtype, the number of points and the data kind a header declares."""
    for key in ("FIELDS", "SIZE", "TYPE", "WIDTH", "HEIGHT"):
        if key not in header:
            raise InvalidInput(source, "header", f"no {key} line")
    fields, sizes, types = header["FIELDS"], header["SIZE"], header["TYPE"]
    counts = header.get("COUNT", ["1"] * len(fields))
    if not len(fields) == len(sizes) == len(types) == len(counts):
        raise InvalidInput(source, "header", "FIELDS, SIZE, TYPE and COUNT list different numbers of entries")
    columns = []
    for i, (name, size, kind, count) in enumerate(zip(fields, sizes, types, counts, strict=True)):
        if kind not in _TYPES or size not in ("1", "2", "4", "8") or (kind == "F" and size not in ("4", "8")):
            raise InvalidInput(source, f"field {name}", f"unsupported type {kind}{size}")
        shape = (_count(count, source, name),)
        unique = name if name not in fields[:i] else f"{name}__{i}"  # PCL pads records with fields named '_'
        columns.append(
            (unique, f"<{_TYPES[kind]}{size}", shape) if shape != (1,) else (unique, f"<{_TYPES[kind]}{size}")
        )
    missing = [axis for axis in ("x", "y", "z") if axis not in fields]
    if missing:
        raise InvalidInput(source, "FIELDS", f"no {', '.join(missing)} field (fields: {' '.join(fields)})")
    width, height = _count(header["WIDTH"][0], source, "WIDTH"), _count(header["HEIGHT"][0], source, "HEIGHT")
    n = _count(header["POINTS"][0], source, "POINTS") if "POINTS" in header else width * height
    if n != width * height:
        raise InvalidInput(source, "POINTS", f"{n} points, but WIDTH x HEIGHT is {width * height}")
    return np.dtype(columns), n, header["DATA"][0] if header["DATA"] else ""


def _count(text: str, source: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(source, what, f"expected a whole number, got {text!r}")
    return int(text)


def _binary(body: bytes, dtype: np.dtype[np.void], n: int, source: str) -> np.ndarray:
    if len(body) < n * dtype.itemsize:
        raise InvalidInput(source, "DATA", f"{len(body)} bytes of data, {n} points need {n * dtype.itemsize}")
    return np.frombuffer(body, dtype=dtype, count=n)


def _ascii(body: bytes, dtype: np.dtype[np.void], n: int, source: str) -> np.ndarray:
    values = body.split()
    width = sum(int(np.prod(dtype[name].shape, dtype=np.int64)) for name in dtype.names or ())
    if len(values) != n * width:
        raise InvalidInput(source, "DATA", f"{len(values)} values, {n} points of {width} need {n * width}")
    try:
        table = np.array(values, dtype=np.float64).reshape(n, width)
    except ValueError:
        raise InvalidInput(source, "DATA", "a value is not a number") from None
    records = np.zeros(n, dtype=np.dtype([(name, np.float64, dtype[name].shape) for name in dtype.names or ()]))
    column = 0
    for name in dtype.names or ():
        k = int(np.prod(dtype[name].shape, dtype=np.int64))
        records[name] = table[:, column : column + k].reshape(records[name].shape)
        column += k
    return records
