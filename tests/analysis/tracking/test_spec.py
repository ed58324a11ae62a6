"""Track acceptance specs: reading them, writing them back, and judging clips with them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import yaml

from analysis.exceptions import InvalidSpec
from analysis.tracking import TrackAcceptanceSpec, track_metrics
from analysis.tracking.exceptions import InvalidTrackSpec
from tests.analysis.tracking.cases import CASES


def test_an_empty_spec_sets_no_limit() -> None:
    assert TrackAcceptanceSpec.from_dict(None) == TrackAcceptanceSpec() == TrackAcceptanceSpec.from_dict({})
    assert TrackAcceptanceSpec().to_dict() == {}


def test_yaml_round_trip_keeps_the_limits_and_null_means_unset() -> None:
    doc = yaml.safe_load("max_id_switches: 2\nmax_fragmentations: 0\nmin_idf1: 0.8\nmin_mota: -0.5\nmin_hota: ~\n")
    spec = TrackAcceptanceSpec.from_dict(doc, "tracks.yaml")
    assert spec == TrackAcceptanceSpec(max_id_switches=2, max_fragmentations=0, min_idf1=0.8, min_mota=-0.5)
    assert TrackAcceptanceSpec.from_dict(yaml.safe_load(yaml.safe_dump(spec.to_dict()))) == spec


@pytest.mark.parametrize(
    ("doc", "where", "problem"),
    [
        ({"max_switches": 1}, "max_switches", "unknown key (known: max_id_switches, "),
        ({"max_id_switches": -1}, "max_id_switches", "must be >= 0"),
        ({"max_id_switches": 1.5}, "max_id_switches", "expected an integer"),
        ({"max_fragmentations": True}, "max_fragmentations", "expected an integer"),
        ({"min_idf1": 1.2}, "min_idf1", "must be <= 1.0"),
        ({"min_hota": -0.1}, "min_hota", "must be >= 0.0"),
        ({"min_mota": "high"}, "min_mota", "expected a number"),
        ({"min_mota": float("nan")}, "min_mota", "must be finite"),
        ({"min_mota": 1.5}, "min_mota", "must be <= 1.0"),
        ([1, 2], "", "expected an object"),
    ],
)
def test_malformed_specs_name_the_key(doc: Any, where: str, problem: str) -> None:
    with pytest.raises(InvalidTrackSpec) as info:
        TrackAcceptanceSpec.from_dict(doc, "tracks.yaml")
    assert info.value.where == where and problem in info.value.problem
    assert isinstance(info.value, InvalidSpec) and str(info.value).startswith("tracks.yaml")


# case, spec, accepted, reasons
JUDGEMENTS = [
    ("id swap", {}, True, ()),
    ("id swap", {"max_id_switches": 2, "min_mota": 0.75}, True, ()),
    ("id swap", {"max_id_switches": 1}, False, ("ID switches 2 > max_id_switches 1",)),
    ("id swap", {"min_idf1": 0.6, "min_hota": 0.5}, False, ("IDF1 0.5000 < min_idf1 0.6",)),
    ("fragmentation", {"max_fragmentations": 0, "min_mota": 0.9}, False,
     ("fragmentations 1 > max_fragmentations 0", "MOTA 0.8000 < min_mota 0.9")),
    ("only false positives", {"min_mota": -1.0}, False, ("MOTA -inf < min_mota -1.0",)),
    ("all misses", {"min_idf1": 0.0, "min_hota": 0.0}, True, ()),
    ("empty clip", {"min_idf1": 0.9, "min_mota": 0.9, "min_hota": 0.9}, True, ()),  # nothing to disagree on
]


@pytest.mark.parametrize(("case", "doc", "accepted", "reasons"), JUDGEMENTS)
def test_judge(case: str, doc: dict[str, Any], accepted: bool, reasons: tuple[str, ...]) -> None:
    spec = TrackAcceptanceSpec.from_dict(doc)
    assert spec.judge(track_metrics(*CASES[case])) == (accepted, reasons)


def test_an_undefined_metric_fails_its_limit() -> None:
    metrics = track_metrics(*CASES["all misses"])  # IDP is NaN, but IDF1 and MOTA are defined
    assert TrackAcceptanceSpec(min_mota=0.0).judge(metrics) == (True, ())
    empty = track_metrics(*CASES["empty clip"])  # IDF1 NaN; pretend one side had a detection
    undefined = replace(empty, clear=replace(empty.clear, num_predictions=1))
    accepted, reasons = TrackAcceptanceSpec(min_idf1=0.5).judge(undefined)
    assert not accepted and reasons == ("IDF1 is undefined, cannot meet min_idf1 0.5",)
