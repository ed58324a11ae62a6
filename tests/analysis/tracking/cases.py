"""Hand-made clips, each a (ground truth, hypothesis) pair named for what it exercises.

Boxes are 10 × 10 squares; two shifted by s along x overlap with IoU (10 - s) / (10 + s): s = 1 gives 9/11,
s = 2.5 gives 0.6, s = 0.25 gives 39/41, s = 5 gives 1/3; squares 100 apart never overlap.
"""

from __future__ import annotations

from analysis.tracking import Tracks
from tests.analysis.tracking.builders import clip, square

CASES: dict[str, tuple[Tracks, Tracks]] = {
    "empty clip": (clip(3, []), clip(3, [])),
    "all misses": (clip(3, [square(f, 1, 0) for f in range(3)]), clip(3, [])),
    "only false positives": (clip(2, []), clip(2, [square(0, 4, 0), square(1, 4, 0)])),
    "perfect, empty middle frame": (clip(3, [square(0, 7, 0), square(2, 7, 0)]),
                                    clip(3, [square(0, 1000, 0), square(2, 1000, 0)])),
    "id swap": (
        clip(4, [square(f, 1, 0) for f in range(4)] + [square(f, 2, 100) for f in range(4)]),
        clip(4, [square(f, 10, 0 if f < 2 else 100) for f in range(4)]
             + [square(f, 20, 100 if f < 2 else 0) for f in range(4)]),
    ),
    "fragmentation": (clip(5, [square(f, 1, 0) for f in range(5)]),
                      clip(5, [square(f, 5, 0) for f in (0, 1, 3, 4)])),
    "lost at the end": (clip(4, [square(f, 1, 0) for f in range(4)]), clip(4, [square(f, 5, 0) for f in (0, 1)])),
    "non-contiguous ids": (
        clip(2, [square(f, -5, 0) for f in range(2)] + [square(f, 10**12, 100) for f in range(2)]),
        clip(2, [square(f, 3, 1) for f in range(2)] + [square(f, 2**40, 101) for f in range(2)]),
    ),
    "below the threshold": (clip(1, [square(0, 1, 0)]), clip(1, [square(0, 1, 5)])),
    "iou exactly 0.5": (clip(1, [(0, 1, 0, 0, 10, 10)]), clip(1, [(0, 1, 0, 0, 10, 5)])),
    "carry-over beats a closer box": (
        clip(2, [square(0, 1, 0), square(1, 1, 0)]),
        clip(2, [square(0, 10, 1), square(0, 20, 50), square(1, 10, 2.5), square(1, 20, 0.25)]),
    ),
    "switch after a gap": (clip(3, [square(f, 1, 0) for f in range(3)]),
                           clip(3, [square(0, 10, 0), square(2, 20, 0)])),
}
