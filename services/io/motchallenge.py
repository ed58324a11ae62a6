"""MOTChallenge text files in and out of :class:`analysis.tracking.Tracks`: one detection per line,
``frame,id,x,y,w,h,conf,...`` separated by commas, tabs or spaces (as motmetrics' ``io.loadtxt`` splits them).

Columns read, as motmetrics reads them with ``fmt='mot15-2D'`` or ``'mot16'`` (7 to 10 per line):

- frame: 1-based in the file, 0-based in :class:`Tracks`;
- id: the track id, any whole number;
- x, y, w, h: the box. The file's pixel grid starts at 1 (MOTChallenge's Matlab convention), :class:`Tracks`
  is COCO's 0-based one, so x and y are shifted by 1 (motmetrics does the same). The shift is done in decimal,
  so file -> Tracks -> file and Tracks -> file -> Tracks give back every value exactly;
- conf: kept as ``confidence``. In ground truth it is the "consider" flag: read it with ``min_confidence=1``
  to drop ignored rows, as motmetrics advises (its loader drops ``conf < -1`` by default; here nothing is
  dropped unless asked);
- ``mot15-2D``: columns 8-10 are the world coordinates x3d, y3d, z3d: dropped (the 2D metrics never use them;
  written back as -1);
- ``mot16``: column 8 is the class, kept as ``category``; column 9 the visibility ratio, kept as
  ``visibility``; column 10 (unused, -1 in result files) is dropped. Written back as 9 columns.

The clip length is not in the file (MOTChallenge keeps it in ``seqinfo.ini``): pass ``num_frames``, or the last
frame with a row is taken as the end. Rows are read and written in file order.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal
from pathlib import Path
from typing import Literal

import numpy as np

from analysis.tracking import Tracks
from services.exceptions import InvalidInput, UnreadableFile
from services.io.files import read_utf8

Layout = Literal["mot15-2D", "mot16"]
_COLUMNS = ("frame", "id", "x", "y", "width", "height", "conf")
_EXTRA: dict[str, tuple[str, ...]] = {"mot15-2D": ("x3d", "y3d", "z3d"), "mot16": ("class", "visibility", "unused")}
_SPLIT = re.compile(r"\s*,\s*|\s+")
_EXACT = Context(prec=800)  # enough digits that x ± 1 never rounds for any float x


def read_motchallenge(path: str | Path, *, layout: Layout = "mot15-2D", num_frames: int | None = None,
                      min_confidence: float | None = None) -> Tracks:
    """Tracks from a MOTChallenge file; errors name the file, the line and the column."""
    return parse_motchallenge(read_utf8(path), source=str(path), layout=layout, num_frames=num_frames,
                              min_confidence=min_confidence)


def parse_motchallenge(text: str, *, source: str, layout: Layout = "mot15-2D", num_frames: int | None = None,
                       min_confidence: float | None = None) -> Tracks:
    """Tracks from MOTChallenge text; ``source`` names it in errors."""
    if layout not in _EXTRA:
        raise InvalidInput(source, "layout", f"unknown layout {layout!r} (known: {', '.join(_EXTRA)})")
    names = (*_COLUMNS, *_EXTRA[layout])
    rows = [(n, _parse_line(line, names, source, n)) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    _check_unique(rows, source)
    last = max((int(r[0]) for _, r in rows), default=0)
    if num_frames is not None and last > num_frames:
        n, row = next((n, r) for n, r in rows if r[0] > num_frames)
        raise UnreadableFile(source, f"line {n}", f"frame {int(row[0])} is past the clip's {num_frames} frames")
    if min_confidence is not None:
        rows = [(n, r) for n, r in rows if r[6] >= min_confidence]
    table = np.array([r for _, r in rows], dtype=np.float64).reshape(len(rows), len(names))
    mot16 = layout == "mot16"
    return Tracks.from_arrays(
        num_frames=last if num_frames is None else num_frames, frame=table[:, 0] - 1, track_id=table[:, 1],
        boxes=table[:, 2:6], confidence=table[:, 6], category=table[:, 7] if mot16 else None,
        visibility=table[:, 8] if mot16 else None, source=source,
    )


def write_motchallenge(path: str | Path, tracks: Tracks, *, layout: Layout = "mot15-2D") -> None:
    """Write tracks as MOTChallenge text (see :func:`format_motchallenge`)."""
    Path(path).write_text(format_motchallenge(tracks, layout=layout), encoding="utf-8")


def format_motchallenge(tracks: Tracks, *, layout: Layout = "mot15-2D") -> str:
    """One line per row, in row order; a missing confidence is written as 1, a missing class or visibility as -1."""
    n = len(tracks)
    conf = tracks.confidence if tracks.confidence is not None else np.ones(n)
    if layout == "mot16":
        category = tracks.category if tracks.category is not None else np.full(n, -1)
        visibility = tracks.visibility if tracks.visibility is not None else np.full(n, -1.0)
        extra = [[str(c) for c in category.tolist()], [_real(v) for v in visibility.tolist()]]
    else:
        extra = [["-1"] * n] * 3
    boxes = tracks.boxes.T.tolist()
    columns = [[str(f + 1) for f in tracks.frame.tolist()], [str(i) for i in tracks.track_id.tolist()],
               [_shifted(x) for x in boxes[0]], [_shifted(y) for y in boxes[1]], [_real(w) for w in boxes[2]],
               [_real(h) for h in boxes[3]], [_real(c) for c in conf.tolist()], *extra]
    return "".join(",".join(fields) + "\n" for fields in zip(*columns, strict=True))




def _parse_line(line: str, names: tuple[str, ...], source: str, n: int) -> list[float]:
    fields = _SPLIT.split(line.strip())
    if not len(_COLUMNS) <= len(fields) <= len(names):
        raise UnreadableFile(source, f"line {n}", f"expected {len(_COLUMNS)} to {len(names)} values "
                                                  f"({','.join(names)}), got {len(fields)}")
    values = [_number(text, name, source, n) for text, name in zip(fields, names, strict=False)]
    values += [-1.0] * (len(names) - len(values))
    for k, name in enumerate(names):
        if name in ("frame", "id", "class") and not values[k].is_integer():
            raise UnreadableFile(source, f"line {n}", f"{name}: expected a whole number, got {fields[k]!r}")
    if values[0] < 1:
        raise UnreadableFile(source, f"line {n}", f"frame: frames count from 1, got {fields[0]!r}")
    for k in (4, 5):
        if values[k] < 0:
            raise UnreadableFile(source, f"line {n}", f"{names[k]}: must be >= 0, got {fields[k]!r}")
    values[2], values[3] = _unshifted(fields[2]), _unshifted(fields[3])
    return values


def _number(text: str, name: str, source: str, n: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UnreadableFile(source, f"line {n}", f"{name}: expected a number, got {text!r}") from None
    if not np.isfinite(value) or abs(value) >= 2.0**53:
        raise UnreadableFile(source, f"line {n}", f"{name}: expected a finite number below 2^53, got {text!r}")
    return value


def _check_unique(rows: list[tuple[int, list[float]]], source: str) -> None:
    seen: dict[tuple[float, float], int] = {}
    for n, r in rows:
        first = seen.setdefault((r[0], r[1]), n)
        if first != n:
            raise UnreadableFile(source, f"line {n}", f"frame {int(r[0])}, id {int(r[1])} repeats line {first}")


def _unshifted(text: str) -> float:
    """A 1-based file coordinate on COCO's 0-based grid, shifted in decimal so no binary rounding creeps in."""
    return float(_EXACT.subtract(Decimal(text), 1))


def _shifted(value: float) -> str:
    """The file's 1-based coordinate for a 0-based one: exact in decimal, so reading it back gives ``value``."""
    return _decimal_text(_EXACT.add(Decimal(repr(value)), 1))


def _real(value: float) -> str:
    return _decimal_text(Decimal(repr(value)))


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
