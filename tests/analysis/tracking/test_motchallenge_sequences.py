"""The MOTChallenge sequences py-motmetrics ships (TUD-Campus, TUD-Stadtmitte), read from the installed wheel with
our reader: the numbers motmetrics' own test publishes for them, and equality with both references."""

from __future__ import annotations

import importlib.resources
import math
from pathlib import Path

import pytest

from analysis.tracking import Tracks, track_metrics
from services.io.motchallenge import read_motchallenge
from tests.analysis.tracking.references import motmetrics_summary, trackeval_hota

DATA = Path(str(importlib.resources.files("motmetrics") / "data"))

# motmetrics/tests/test_metrics.py::test_motchallenge_files, expected rows (6 decimals) for motchallenge_metrics[:15]
PUBLISHED = {
    "TUD-Campus": [0.557659, 0.729730, 0.451253, 0.582173, 0.941441, 8, 1, 6, 1, 13, 150, 7, 7, 0.526462, 0.277201],
    "TUD-Stadtmitte": [0.644619, 0.819760, 0.531142, 0.608997, 0.939920, 10, 5, 4, 1, 45, 452, 7, 6, 0.564014,
                       0.345904],
}
COLUMNS = ["idf1", "idp", "idr", "recall", "precision", "num_unique_objects", "mostly_tracked", "partially_tracked",
           "mostly_lost", "num_false_positives", "num_misses", "num_switches", "num_fragmentations", "mota", "motp"]


def sequence(name: str) -> tuple[Tracks, Tracks]:
    """Both files over the frames either reaches, as motmetrics' ``compare_to_groundtruth`` walks them."""
    last = max(read_motchallenge(DATA / name / f).num_frames for f in ("gt.txt", "test.txt"))
    return (read_motchallenge(DATA / name / "gt.txt", num_frames=last),
            read_motchallenge(DATA / name / "test.txt", num_frames=last))


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_numbers(name: str) -> None:
    ours = track_metrics(*sequence(name)).to_dict()
    for column, expected in zip(COLUMNS, PUBLISHED[name], strict=True):
        assert ours[column] == pytest.approx(expected, abs=5e-7), column


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_equal_to_the_references(name: str) -> None:
    gt, hyp = sequence(name)
    ours = track_metrics(gt, hyp).to_dict()
    reference = {**motmetrics_summary(gt, hyp), **trackeval_hota(gt, hyp)}
    for column, value in reference.items():
        assert (math.isnan(value) and math.isnan(ours[column])) or abs(ours[column] - value) <= 1e-9, column
    assert 0.3 < ours["hota"] < 0.5  # a real, imperfect tracker: nothing degenerate was compared


def test_published_overall_row_from_the_summed_counts() -> None:
    """motmetrics' OVERALL row pools both sequences' counts; pooling ours gives the same numbers."""
    parts = [track_metrics(*sequence(name)) for name in sorted(PUBLISHED)]
    total = {k: sum(p.to_dict()[k] for p in parts) for k in (
        "idtp", "idfp", "idfn", "num_objects", "num_predictions", "num_false_positives", "num_misses", "num_switches",
        "num_fragmentations", "num_unique_objects", "mostly_tracked", "partially_tracked", "mostly_lost")}
    detections = total["num_objects"] - total["num_misses"]
    pooled = [
        2 * total["idtp"] / (total["num_objects"] + total["num_predictions"]),
        total["idtp"] / (total["idtp"] + total["idfp"]), total["idtp"] / (total["idtp"] + total["idfn"]),
        detections / total["num_objects"], detections / (detections + total["num_false_positives"]),
        *(total[k] for k in COLUMNS[5:13]),
        1 - (total["num_misses"] + total["num_switches"] + total["num_false_positives"]) / total["num_objects"],
        sum(p.clear.motp * (p.clear.num_objects - p.clear.num_misses) for p in parts) / detections,
    ]
    published = [0.624296, 0.799176, 0.512211, 0.602640, 0.940268, 18, 6, 10, 2, 58, 602, 14, 13, 0.555116, 0.330177]
    assert pooled == pytest.approx(published, abs=5e-7)
