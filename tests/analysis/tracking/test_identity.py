"""ID measures on hand-made clips: one gt track, one hypothesis track, for the whole clip."""

from __future__ import annotations

import math

import pytest

from analysis.tracking import track_metrics
from tests.analysis.tracking.cases import CASES

NAN = math.nan

# case: IDTP, IDFP, IDFN, IDP, IDR, IDF1
TABLE = [
    ("empty clip", 0, 0, 0, NAN, NAN, NAN),
    ("all misses", 0, 0, 3, NAN, 0.0, 0.0),
    ("only false positives", 0, 2, 0, 0.0, NAN, 0.0),
    ("perfect, empty middle frame", 2, 0, 0, 1.0, 1.0, 1.0),
    ("id swap", 4, 4, 4, 0.5, 0.5, 0.5),  # each gt track keeps its first hypothesis for half the clip
    ("fragmentation", 4, 0, 1, 1.0, 0.8, 8 / 9),
    ("lost at the end", 2, 0, 2, 1.0, 0.5, 2 / 3),
    ("non-contiguous ids", 4, 0, 0, 1.0, 1.0, 1.0),
    ("below the threshold", 0, 1, 1, 0.0, 0.0, 0.0),
    ("iou exactly 0.5", 1, 0, 0, 1.0, 1.0, 1.0),
    ("carry-over beats a closer box", 2, 2, 0, 0.5, 1.0, 2 / 3),
    ("switch after a gap", 1, 1, 2, 0.5, 1 / 3, 0.4),
]


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12


@pytest.mark.parametrize(("case", "idtp", "idfp", "idfn", "idp", "idr", "idf1"), TABLE)
def test_id_measures_by_hand(case: str, idtp: int, idfp: int, idfn: int, idp: float, idr: float, idf1: float) -> None:
    m = track_metrics(*CASES[case]).identity
    assert (m.idtp, m.idfp, m.idfn) == (idtp, idfp, idfn)
    assert same(m.idp, idp) and same(m.idr, idr) and same(m.idf1, idf1)


def test_identity_pairs_count_every_matchable_frame_not_only_clear_matches() -> None:
    """In "carry-over beats a closer box" CLEAR never matches hypothesis 20, yet it is matchable in frame 1:
    the global pairing still prefers hypothesis 10 (2 frames) to 20 (1 frame)."""
    m = track_metrics(*CASES["carry-over beats a closer box"])
    assert m.clear.num_false_positives == 2 and m.identity.idtp == 2
