"""The pipeline spec: a named list of steps, read from YAML and validated with errors naming the file and
the field (unknown keys refused)::

    name: driving-chain
    steps:
      - {name: detect, kind: detect, model: builtin:driving-detector}
      - {name: track, kind: track, params: {distance_threshold: 0.7}}
      - {name: post, kind: postprocess, params: {min_track_length: 3, max_gap: 5, smooth_classes: true}}

A step's ``name`` is also the folder of its snapshot (letters, digits, ``_``, ``-``, ``.``), unique in the
spec. The first step reads frames (``detect``), every later one the output of the step before it. ``model``
is given to kinds that take one and refused by the others; ``params`` are the kind's (see its module).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.annotations.checks import describe
from services.datasets.driving.builtin_specs import resolve
from services.engine.chain.exceptions import InvalidPipeline
from services.engine.chain.params import parse_params
from services.engine.chain.registry import get_kind, step_kinds
from services.engine.chain.step import StepSpec
from services.io.files import read_yaml

PIPELINE_KEYS = ("name", "description", "steps")
STEP_KEYS = ("name", "kind", "model", "params")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    steps: tuple[StepSpec, ...]
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "steps": [s.to_dict() for s in self.steps]}

    def index(self, step: str, source: str) -> int:
        """The position of step ``step``; the error lists the steps."""
        for i, s in enumerate(self.steps):
            if s.name == step:
                return i
        raise InvalidPipeline(source, "", f"no step named {step!r} (steps: {', '.join(s.name for s in self.steps)})")


def load_pipeline(path: str | Path) -> PipelineSpec:
    """The pipeline spec in the YAML file ``path`` (or a built-in one: ``builtin:driving-chain``), validated."""
    return parse_pipeline(read_yaml(resolve(path)), str(path))


def parse_pipeline(doc: Any, source: str) -> PipelineSpec:
    """A pipeline spec from its parsed document; ``source`` names it in errors."""
    rec = _record(doc, source, "", PIPELINE_KEYS)
    name = _text(rec, "name", source, "")
    description = rec.get("description", "")
    if not isinstance(description, str):
        raise InvalidPipeline(source, "description", f"expected a string, got {describe(description)}")
    items = rec.get("steps")
    if not isinstance(items, list) or not items:
        raise InvalidPipeline(source, "steps", f"expected a non-empty list of steps, got {describe(items)}")
    steps = tuple(_step(item, source, f"steps[{i}]", first=i == 0) for i, item in enumerate(items))
    seen: set[str] = set()
    for i, step in enumerate(steps):
        if step.name in seen:
            raise InvalidPipeline(source, f"steps[{i}].name", f"duplicate step name {step.name!r}")
        seen.add(step.name)
    return PipelineSpec(name, steps, description)


def _step(doc: Any, source: str, where: str, *, first: bool) -> StepSpec:
    rec = _record(doc, source, where, STEP_KEYS)
    name = _text(rec, "name", source, where)
    if not NAME.fullmatch(name):
        raise InvalidPipeline(source, f"{where}.name", f"{name!r} is not a folder name (letters, digits, _ - .)")
    kind_name = _text(rec, "kind", source, where)
    kind = get_kind(kind_name)
    if kind is None:
        raise InvalidPipeline(source, f"{where}.kind", f"unknown kind {kind_name!r} (known: {', '.join(step_kinds())})")
    if first and not kind.reads_frames:
        raise InvalidPipeline(source, f"{where}.kind", f"{kind.kind} needs a step before it; the first step must "
                              "read frames (detect)")
    if not first and kind.reads_frames:
        raise InvalidPipeline(source, f"{where}.kind", f"{kind.kind} reads frames, so it can only be the first step")
    model = _model(rec, kind.takes_model, kind.kind, source, where)
    raw = rec.get("params") or {}
    if not isinstance(raw, Mapping):
        raise InvalidPipeline(source, f"{where}.params", f"expected a mapping of parameters, got {describe(raw)}")
    params = parse_params(kind.Params, raw, source, f"{where}.params")
    return StepSpec(name, kind.kind, params, model)


def _model(rec: Mapping[str, Any], takes: bool, kind: str, source: str, where: str) -> str | None:
    if not takes:
        if "model" in rec:
            raise InvalidPipeline(source, f"{where}.model", f"a {kind} step takes no model")
        return None
    return _text(rec, "model", source, where)


def _record(doc: Any, source: str, where: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise InvalidPipeline(source, where, f"expected a mapping, got {describe(doc)}")
    for key in doc:
        if key not in keys:
            at = f"{where}.{key}" if where else str(key)
            raise InvalidPipeline(source, at, f"unknown key (expected {', '.join(keys)})")
    return doc


def _text(rec: Mapping[str, Any], key: str, source: str, where: str) -> str:
    at = f"{where}.{key}" if where else key
    if key not in rec:
        raise InvalidPipeline(source, at, "required key missing")
    value = rec[key]
    if not isinstance(value, str) or not value.strip():
        raise InvalidPipeline(source, at, f"expected a non-empty string, got {describe(value)}")
    return value
