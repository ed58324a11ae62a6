"""Pipeline specs: the reference spec loads; every malformed spec names the file and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from services.datasets.driving.builtin_specs import BUILTIN
from services.engine.chain.exceptions import InvalidPipeline
from services.engine.chain.registry import step_kinds
from services.engine.chain.spec import load_pipeline, parse_pipeline
from services.engine.chain.steps.postprocess import PostprocessParams
from services.engine.chain.tracking import TrackParams
from services.exceptions import UnreadableFile

EXAMPLE = BUILTIN["builtin:driving-chain"]
GOOD: dict[str, Any] = {"name": "chain", "steps": [
    {"name": "detect", "kind": "detect", "model": "builtin:driving-detector"},
    {"name": "track", "kind": "track", "params": {"distance_threshold": 0.6}},
    {"name": "post", "kind": "postprocess", "params": {"min_track_length": 3, "max_gap": 5}},
]}


def test_the_reference_spec_loads_with_defaults_filled_in() -> None:
    spec = load_pipeline(EXAMPLE)
    assert [(s.name, s.kind) for s in spec.steps] == [("detect", "detect"), ("track", "track"),
                                                      ("post", "postprocess")]
    assert spec.steps[0].model == "builtin:driving-detector"
    assert spec.steps[1].params == TrackParams(distance_threshold=0.7, hit_counter_max=8, initialization_delay=2)
    assert spec.steps[2].params == PostprocessParams(min_track_length=3, max_gap=5, smooth_classes=True)


def test_every_kind_is_registered() -> None:
    assert {"detect", "track", "postprocess"} <= set(step_kinds())


def test_an_alias_names_the_kind() -> None:
    doc = copy.deepcopy(GOOD)
    doc["steps"][2]["kind"] = "post"
    assert parse_pipeline(doc, "p.yaml").steps[2].kind == "postprocess"


def _set(path: str, value: Any) -> dict[str, Any]:
    """GOOD with the key at dotted ``path`` set to ``value`` (``...`` deletes it)."""
    doc = copy.deepcopy(GOOD)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = doc
    for p in parents:
        node = node[p]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return doc


@pytest.mark.parametrize(("doc", "where", "problem"), [
    ([], "", "expected a mapping"),
    (_set("colour", "red"), "colour", "unknown key"),
    (_set("name", ...), "name", "required key missing"),
    (_set("name", 3), "name", "expected a non-empty string"),
    (_set("steps", []), "steps", "non-empty list"),
    (_set("steps.1.speed", 2), "steps[1].speed", "unknown key"),
    (_set("steps.1.kind", "teleport"), "steps[1].kind", "unknown kind 'teleport'"),
    (_set("steps.1.name", "detect"), "steps[1].name", "duplicate step name"),
    (_set("steps.1.name", "a/b"), "steps[1].name", "not a folder name"),
    (_set("steps.0.kind", "track"), "steps[0].kind", "first step must read frames"),
    (_set("steps.2.kind", "detect"), "steps[2].kind", "can only be the first step"),
    (_set("steps.0.model", ...), "steps[0].model", "required key missing"),
    (_set("steps.1.model", "m.pt"), "steps[1].model", "takes no model"),
    (_set("steps.1.params", [1]), "steps[1].params", "expected a mapping of parameters"),
    (_set("steps.1.params.iou", 0.5), "steps[1].params.iou", "unknown parameter"),
    (_set("steps.1.params.distance_threshold", 1.5), "steps[1].params.distance_threshold", "must be <= 1.0"),
    (_set("steps.1.params.distance_threshold", "near"), "steps[1].params.distance_threshold", "finite number"),
    (_set("steps.1.params.hit_counter_max", 2.5), "steps[1].params.hit_counter_max", "expected an integer"),
    (_set("steps.1.params.class_aware", 1), "steps[1].params.class_aware", "expected true or false"),
    (_set("steps.1.params.initialization_delay", 9), "steps[1].params", "below hit_counter_max"),
    (_set("steps.2.params.min_track_length", 0), "steps[2].params.min_track_length", "must be >= 1"),
    (_set("steps.2.params.max_gap", -1), "steps[2].params.max_gap", "must be >= 0"),
    (_set("steps.0.params", {"runtime": "gpu"}), "steps[0].params.runtime", "expected one of auto, torch"),
])
def test_a_bad_spec_is_refused_naming_the_field(doc: Any, where: str, problem: str) -> None:
    with pytest.raises(InvalidPipeline) as caught:
        parse_pipeline(doc, "pipes/p.yaml")
    assert caught.value.source == "pipes/p.yaml"
    assert caught.value.where == where
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"pipes/p.yaml: {where}" if where else "pipes/p.yaml")


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        load_pipeline(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(UnreadableFile, match=r"bad\.yaml.*invalid YAML"):
        load_pipeline(bad)
