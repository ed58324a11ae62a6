"""COCO run-length encoded masks: parsing, the compressed string codec, area and IoU.

Masks are flattened column-major (Fortran order), as pycocotools does; ``counts``
alternate runs of 0s and 1s starting with 0s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import BoolArray, IntArray, Rle
from analysis.exceptions import InvalidInput

_UINT = 2**32  # pycocotools' C code counts in unsigned 32-bit integers


def parse_rle(value: Any, source: str, where: str, image_size: tuple[int, int]) -> Rle:
    """A COCO RLE object (compressed string or list of counts) checked against its image."""
    rec = checks.as_record(value, source, where)
    size = checks.as_list(checks.field(rec, "size", source, where), source, f"{where}.size")
    if len(size) != 2:
        raise InvalidInput(source, f"{where}.size", f"expected [height, width], got {len(size)} values")
    h, w = (checks.integer(v, source, f"{where}.size[{i}]", minimum=0) for i, v in enumerate(size))
    if image_size != (0, 0) and (h, w) != image_size:
        raise InvalidInput(source, f"{where}.size", f"[{h}, {w}] does not match the image's {list(image_size)}")
    raw = checks.field(rec, "counts", source, where)
    counts = _counts(raw, source, f"{where}.counts")
    if sum(counts) != h * w:
        raise InvalidInput(source, f"{where}.counts", f"runs cover {sum(counts)} pixels, the mask has {h * w}")
    return Rle(h, w, counts)


def _counts(raw: Any, source: str, where: str) -> tuple[int, ...]:
    if isinstance(raw, str):
        try:
            counts = decode_counts(raw)
        except ValueError as exc:
            raise InvalidInput(source, where, str(exc)) from None
    else:
        counts = tuple(checks.integer(v, source, f"{where}[{i}]") for i, v in enumerate(
            checks.as_list(raw, source, where)))
    if any(c < 0 for c in counts):
        raise InvalidInput(source, where, "a run length is negative")
    return counts


def decode_counts(text: str) -> tuple[int, ...]:
    """Decode pycocotools' compressed counts string (LEB128-like, 6 bits per char)."""
    counts: list[int] = []
    p = 0
    while p < len(text):
        x, k, more = 0, 0, True
        while more:
            if p >= len(text):
                raise ValueError("compressed counts end in the middle of a number")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"invalid character {text[p]!r} in compressed counts")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return tuple(counts)


def encode_counts(counts: tuple[int, ...]) -> str:
    """Encode counts the way pycocotools' ``rleToString`` does."""
    out: list[str] = []
    for i, value in enumerate(counts):
        x = value - counts[i - 2] if i > 2 else value
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def decode(rle: Rle) -> BoolArray:
    """The mask as a (height, width) boolean array."""
    values = np.arange(len(rle.counts)) % 2 == 1
    flat = np.repeat(values, rle.counts)
    return flat.reshape((rle.width, rle.height)).T


def encode(mask: BoolArray) -> Rle:
    """Run-length encode a (height, width) boolean mask."""
    h, w = mask.shape
    flat = np.asarray(mask, dtype=bool).T.ravel()
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs: IntArray = np.diff(bounds).astype(np.int64)
    if flat.size and flat[0]:
        runs = np.concatenate(([0], runs))
    return Rle(h, w, tuple(int(r) for r in runs))


def area(rle: Rle) -> int:
    return int(sum(rle.counts[1::2]))


def bbox(rle: Rle) -> tuple[float, float, float, float]:
    """The mask's ``[x, y, width, height]`` exactly as pycocotools' ``toBbox`` (C ``rleToBbox``) gives it.

    COCO results may carry a mask without a box; pycocotools derives the box
    this way, so the same box must come out here. It reads only run ends: a
    foreground run that wraps into the next column spans the full height. The
    C code's unsigned 32-bit arithmetic is kept, so an empty mask given with a
    trailing empty run gets pycocotools' odd box too.
    """
    h, w, m = rle.height, rle.width, len(rle.counts) // 2 * 2  # a trailing background run is dropped
    if m == 0:
        return 0.0, 0.0, 0.0, 0.0
    counts = np.asarray(rle.counts[:m], dtype=np.int64)
    ends = np.cumsum(counts) % _UINT
    on = counts[1::2] > 0
    xs, ys, xe, ye = w, h, 0, 0
    if on.any():
        first, last = ends[0::2][on], (ends[1::2][on] - 1) % _UINT
        x_first, x_last = first // h, last // h
        xs, xe = min(w, int(x_first.min())), int(x_last.max())
        if bool((x_first < x_last).any()):  # a run crossing a column boundary
            ys, ye = 0, h - 1
        else:
            ys, ye = min(h, int((first % h).min())), int((last % h).max())
    return float(xs), float(ys), float((xe - xs + 1) % _UINT), float((ye - ys + 1) % _UINT)


def iou(dt: Rle, gt: Rle, crowd: bool) -> float:
    """Mask IoU; for a crowd region, intersection over the detection's area (as pycocotools)."""
    a, b = decode(dt), decode(gt)
    inter = float(np.count_nonzero(a & b))
    union = float(np.count_nonzero(a)) if crowd else float(np.count_nonzero(a | b))
    return inter / union if union > 0 else 0.0
