"""HOTA on hand-made clips. Values are means over the 19 thresholds alpha = 0.05..0.95: a match with IoU v
counts at the alphas <= v, so IoU 9/11 counts at 16 of them, 0.5 at 10, 1/3 at 6. Where nothing matches,
TrackEval's LocA is 1, hence LocA means like (10 × 0.5 + 9 × 1) / 19."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.tracking import track_metrics
from analysis.tracking.hota import ALPHAS
from tests.analysis.tracking.cases import CASES
from tests.analysis.tracking.references import HOTA, trackeval_hota

# case: HOTA, DetA, AssA, LocA
TABLE = [
    ("empty clip", 0.0, 0.0, 0.0, 1.0),  # TrackEval scores a clip with no detections on a side as 0
    ("all misses", 0.0, 0.0, 0.0, 1.0),
    ("only false positives", 0.0, 0.0, 0.0, 1.0),
    ("perfect, empty middle frame", 1.0, 1.0, 1.0, 1.0),
    ("id swap", math.sqrt(1 / 3), 1.0, 1 / 3, 1.0),  # 4 track pairs, each 2 matches of 4 + 4 - 2 detections
    ("fragmentation", 0.8, 0.8, 0.8, 1.0),
    ("lost at the end", 0.5, 0.5, 0.5, 1.0),
    ("non-contiguous ids", 16 / 19, 16 / 19, 16 / 19, (16 * 9 / 11 + 3) / 19),
    ("below the threshold", 6 / 19, 6 / 19, 6 / 19, (6 / 3 + 13) / 19),
    ("iou exactly 0.5", 10 / 19, 10 / 19, 10 / 19, (10 * 0.5 + 9) / 19),
    ("switch after a gap", math.sqrt(2 / 9), 2 / 3, 1 / 3, 1.0),
]


@pytest.mark.parametrize(("case", "hota", "deta", "assa", "loca"), TABLE)
def test_hota_by_hand(case: str, hota: float, deta: float, assa: float, loca: float) -> None:
    m = track_metrics(*CASES[case]).hota
    assert (m.hota, m.deta, m.assa, m.loca) == pytest.approx((hota, deta, assa, loca), abs=1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_cases_equal_trackeval(case: str) -> None:
    ours = track_metrics(*CASES[case]).to_dict()
    for name, value in trackeval_hota(*CASES[case]).items():
        assert ours[name] == pytest.approx(value, abs=1e-12), name


def test_the_thresholds_are_trackevals_to_the_bit() -> None:
    assert len(ALPHAS) == 19 and np.array_equal(ALPHAS, HOTA().array_labels)
