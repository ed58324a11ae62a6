"""``manifest.json``: what a chain run did, so a later run can start from one of its steps.

It holds the pipeline spec, the chain's model version, the frame source, the frame count and, per step, its
spec, version, parameters, the content hash of its output, its set-up seconds (loading a model or a
library), its run seconds and frames per second (of the run alone), counts of
what it output, and whether it ran in this run or was taken from a snapshot (``"ran": false``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.annotations.checks import describe
from services.engine.chain.exceptions import SnapshotMismatch
from services.engine.chain.step import ChainStep
from services.io.files import read_json, write_json

MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class StepRecord:
    """One step of a run as the manifest states it."""

    spec: dict[str, Any]
    version: str
    parameters: dict[str, Any]
    hash: str
    seconds: float
    frames: int
    counts: dict[str, int] = field(default_factory=dict)
    ran: bool = True
    setup_seconds: float = 0.0

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        fps = self.frames_per_second
        return {"name": self.name, "spec": self.spec, "version": self.version, "parameters": self.parameters,
                "output": f"{self.name}/output.npz", "hash": self.hash, "setup_seconds": round(self.setup_seconds, 6),
                "seconds": round(self.seconds, 6),
                "frames_per_second": None if math.isnan(fps) else round(fps, 3), "frames": self.frames,
                "counts": self.counts, "ran": self.ran}


@dataclass(frozen=True)
class Manifest:
    pipeline: dict[str, Any]
    model_version: str
    source: str
    frames: int
    steps: tuple[StepRecord, ...]
    from_step: str | None = None
    snapshot: str | None = None
    run: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "pipeline": self.pipeline, "model_version": self.model_version,
                "source": self.source, "frames": self.frames, "from_step": self.from_step,
                "snapshot": self.snapshot, "run": self.run, "steps": [s.to_dict() for s in self.steps]}

    def step(self, name: str) -> StepRecord | None:
        return next((s for s in self.steps if s.name == name), None)


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / MANIFEST
    write_json(path, manifest.to_dict())
    return path


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the run in ``folder``; :class:`SnapshotMismatch` names what is missing or malformed."""
    path = folder / MANIFEST
    if not path.is_file():
        raise SnapshotMismatch(str(path), "", "no manifest: not the output folder of `engine run --pipeline`")
    doc = _record(read_json(path), str(path), "")
    if doc.get("format") != FORMAT:
        raise SnapshotMismatch(str(path), "format", f"expected {FORMAT}, got {describe(doc.get('format'))}")
    steps = tuple(_step(s, str(path), f"steps[{i}]") for i, s in enumerate(_get(doc, "steps", list, str(path), "")))
    return Manifest(_get(doc, "pipeline", dict, str(path), ""), _get(doc, "model_version", str, str(path), ""),
                    _get(doc, "source", str, str(path), ""), _get(doc, "frames", int, str(path), ""), steps,
                    doc.get("from_step"), doc.get("snapshot"), doc.get("run") or {})


def check_earlier(manifest: Manifest, steps: Sequence[ChainStep], start: int, where: str) -> None:
    """Raise :class:`SnapshotMismatch` unless the manifest's steps before ``steps[start]`` are the same steps
    (spec and version) as the pipeline's."""
    recorded = [s.name for s in manifest.steps]
    for step in steps[:start]:
        record = manifest.step(step.name)
        if record is None:
            raise SnapshotMismatch(where, step.name, f"the snapshot has no step {step.name!r} (it has: "
                                   f"{', '.join(recorded) or 'none'})")
        if record.spec != step.spec.to_dict():
            raise SnapshotMismatch(where, step.name, f"the snapshot's step is {record.spec}, the pipeline's "
                                   f"{step.spec.to_dict()}")
        version = step.version()
        if record.version != version:
            raise SnapshotMismatch(where, step.name, f"the snapshot was made by version {record.version}, the "
                                   f"pipeline's is {version}")


def _step(doc: Any, source: str, where: str) -> StepRecord:
    rec = _record(doc, source, where)
    return StepRecord(
        spec=_get(rec, "spec", dict, source, where), version=_get(rec, "version", str, source, where),
        parameters=_get(rec, "parameters", dict, source, where), hash=_get(rec, "hash", str, source, where),
        seconds=float(_get(rec, "seconds", (int, float), source, where)),
        frames=_get(rec, "frames", int, source, where), counts=rec.get("counts") or {}, ran=bool(rec.get("ran")),
        setup_seconds=float(rec.get("setup_seconds") or 0.0))


def _record(doc: Any, source: str, where: str) -> Mapping[str, Any]:
    if not isinstance(doc, dict):
        raise SnapshotMismatch(source, where, f"expected an object, got {describe(doc)}")
    return doc


def _get(rec: Mapping[str, Any], key: str, kind: type | tuple[type, ...], source: str, where: str) -> Any:
    value = rec.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        at = f"{where}.{key}" if where else key
        raise SnapshotMismatch(source, at, f"missing or malformed (got {describe(value)})")
    return value
