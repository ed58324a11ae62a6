"""Hand-made clips written as rows ``(frame, track id, x, y, w, h)``."""

from __future__ import annotations

import numpy as np

from analysis.tracking import Tracks

Row = tuple[int, int, float, float, float, float]


def clip(num_frames: int, rows: list[Row]) -> Tracks:
    table = np.array(rows, dtype=np.float64).reshape(len(rows), 6)
    return Tracks.from_arrays(num_frames=num_frames, frame=table[:, 0].astype(np.int64),
                              track_id=table[:, 1].astype(np.int64), boxes=table[:, 2:])


def square(frame: int, track: int, x: float, y: float = 0.0, size: float = 10.0) -> Row:
    """A ``size`` × ``size`` box; two of them shifted by ``s`` along x overlap with IoU (size - s) / (size + s)."""
    return (frame, track, x, y, size, size)
