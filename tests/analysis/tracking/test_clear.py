"""CLEAR-MOT on hand-made clips: the counts a person can check, and the same numbers from py-motmetrics."""

from __future__ import annotations

import math

import pytest

from analysis.tracking import track_metrics
from tests.analysis.tracking.builders import clip, square
from tests.analysis.tracking.cases import CASES
from tests.analysis.tracking.references import motmetrics_summary

NAN, INF = math.nan, math.inf

# case: matches, switches, false positives, misses, fragmentations, (mostly tracked, partially, lost), MOTA, MOTP
TABLE = [
    ("empty clip", 0, 0, 0, 0, 0, (0, 0, 0), NAN, NAN),
    ("all misses", 0, 0, 0, 3, 0, (0, 0, 1), 0.0, NAN),
    ("only false positives", 0, 0, 2, 0, 0, (0, 0, 0), -INF, NAN),
    ("perfect, empty middle frame", 2, 0, 0, 0, 0, (1, 0, 0), 1.0, 0.0),
    ("id swap", 6, 2, 0, 0, 0, (2, 0, 0), 0.75, 0.0),
    ("fragmentation", 4, 0, 0, 1, 1, (1, 0, 0), 0.8, 0.0),
    ("lost at the end", 2, 0, 0, 2, 0, (0, 1, 0), 0.5, 0.0),
    ("non-contiguous ids", 4, 0, 0, 0, 0, (2, 0, 0), 1.0, 2 / 11),
    ("below the threshold", 0, 0, 1, 1, 0, (0, 0, 1), -1.0, NAN),
    ("iou exactly 0.5", 1, 0, 0, 0, 0, (1, 0, 0), 1.0, 0.5),
    ("carry-over beats a closer box", 2, 0, 2, 0, 0, (1, 0, 0), 0.0, (2 / 11 + 0.4) / 2),
    ("switch after a gap", 1, 1, 0, 1, 1, (0, 1, 0), 1 / 3, 0.0),
]


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= 1e-12


@pytest.mark.parametrize(("case", "matches", "switches", "fps", "misses", "frags", "coverage", "mota", "motp"), TABLE)
def test_clear_mot_by_hand(case: str, matches: int, switches: int, fps: int, misses: int, frags: int,
                           coverage: tuple[int, int, int], mota: float, motp: float) -> None:
    m = track_metrics(*CASES[case]).clear
    assert (m.num_matches, m.num_switches, m.num_false_positives, m.num_misses, m.num_fragmentations) == (
        matches, switches, fps, misses, frags)
    assert (m.mostly_tracked, m.partially_tracked, m.mostly_lost) == coverage
    assert same(m.mota, mota) and same(m.motp, motp)
    assert same(m.mean_match_iou, 1 - motp)


@pytest.mark.parametrize("case", [row[0] for row in TABLE])
def test_hand_cases_equal_motmetrics(case: str) -> None:
    ours = track_metrics(*CASES[case]).to_dict()
    for name, value in motmetrics_summary(*CASES[case]).items():
        assert same(ours[name], value), name


def test_table_covers_every_case() -> None:
    assert {row[0] for row in TABLE} == set(CASES)


def _contested(first_id: int, second_id: int) -> tuple[int, int, int]:
    """gt A then gt B each last matched hypothesis 10; in frame 2 both reach it, and only B reaches hypothesis 20."""
    a, b = first_id, second_id
    gt = clip(3, [square(0, a, 0), square(1, b, 2), square(2, a, 0), square(2, b, 2)])
    hyp = clip(3, [square(0, 10, 0), square(1, 10, 2), square(2, 10, 1), square(2, 20, 4)])
    ours = track_metrics(gt, hyp)
    ref = motmetrics_summary(gt, hyp)
    counts = (ours.clear.num_switches, ours.clear.num_misses, ours.clear.num_false_positives)
    assert counts == (ref["num_switches"], ref["num_misses"], ref["num_false_positives"])
    return counts


def test_when_two_gt_tracks_claim_one_hypothesis_the_lower_id_keeps_it() -> None:
    """motmetrics' carry-over visits gt tracks in the order given (here: by id), so this tie depends on the ids."""
    assert _contested(1, 2) == (1, 0, 0)  # A keeps 10, B moves to 20: a switch
    assert _contested(5, 2) == (0, 1, 1)  # B keeps 10, A reaches nothing: a miss and a false positive
