"""Running a chain: every step, or a step and the ones after it from another run's snapshot.

Each step's output is stamped with the chain's model version up to that step
(``detect@<model version>+track@<version>+...``), written to ``<out>/<step name>/`` and hashed; the
manifest goes to ``<out>/manifest.json``. A run from step S reads the output of the step before S from the
snapshot folder after checking that its manifest has the same earlier steps (spec and version) and that the
stored output still has the hash the manifest states; it copies that output into ``<out>`` (unless ``<out>``
is the snapshot folder), so every output folder can feed a later run. A step whose output carries track ids
also gets ``<out>/<step name>/mot/<clip>.txt`` (:mod:`services.engine.chain.mot`), derived like ``results.json``.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from analysis.exceptions import InvalidInput
from services.engine.chain.data import StepOutput, counts
from services.engine.chain.exceptions import SnapshotMismatch
from services.engine.chain.manifest import Manifest, StepRecord, check_earlier, read_manifest, write_manifest
from services.engine.chain.mot import write_step_mot
from services.engine.chain.registry import get_kind
from services.engine.chain.snapshot import read_snapshot, write_snapshot
from services.engine.chain.spec import PipelineSpec
from services.engine.chain.step import ChainStep, RunContext


@dataclass(frozen=True)
class ChainReport:
    """A finished run: the manifest it wrote, the final output, and where."""

    manifest: Manifest
    output: StepOutput
    out: Path


def build_steps(spec: PipelineSpec) -> list[ChainStep]:
    """The steps of ``spec``, in order."""
    steps = []
    for s in spec.steps:
        kind = get_kind(s.kind)
        if kind is None:  # a spec is validated when read; this is a spec built by hand
            raise InvalidInput(spec.name, s.name, f"unknown step kind {s.kind!r}")
        steps.append(kind(s))
    return steps


def chain_version(names: list[str], versions: list[str]) -> str:
    """``name@version`` of every step, joined with ``+``: the model version of the chain's results."""
    return "+".join(f"{n}@{v}" for n, v in zip(names, versions, strict=True))


def run_chain(
    spec: PipelineSpec, out: Path, context: RunContext, *, source: str = "", from_step: str | None = None,
    snapshot: Path | None = None, where: str = "pipeline",
) -> ChainReport:
    """Run ``spec`` (from ``from_step`` on, reading ``snapshot``) into ``out``; ``source`` names the frames.

    ``where`` names the spec in errors.
    """
    steps = build_steps(spec)
    start = 0 if from_step is None else spec.index(from_step, where)
    versions = [s.version() for s in steps]
    records: list[StepRecord] = []
    data: StepOutput | None = None
    if start > 0:
        if snapshot is None:
            raise InvalidInput("--from-step", "", "needs --snapshot DIR, the output folder of an earlier run")
        data, records, source = _resume(steps, start, snapshot, out, source)
    elif context.source is None:
        raise InvalidInput(where, steps[0].name, "a run from the first step needs frames (--images)")
    out.mkdir(parents=True, exist_ok=True)
    for i in range(start, len(steps)):
        data, record = _run_step(steps[i], data, context, chain_version([s.name for s in steps[:i + 1]],
                                                                        versions[:i + 1]), out)
        records.append(record)
    assert data is not None
    manifest = Manifest(spec.to_dict(), data.model_version, source, len(data), tuple(records), from_step,
                        None if snapshot is None or start == 0 else str(snapshot),
                        {"device": context.device, "batch_size": context.batch_size})
    write_manifest(out, manifest)
    return ChainReport(manifest, data, out)


def run_in_memory(spec: PipelineSpec, context: RunContext) -> list[tuple[str, StepOutput]]:
    """Every step of ``spec`` over ``context.source``, in memory (no snapshot written): each step's output
    stamped with the chain's model version up to it, exactly as :func:`run_chain` stamps what it writes."""
    steps = build_steps(spec)
    if context.source is None:
        raise InvalidInput(spec.name, steps[0].name, "a run from the first step needs frames")
    names, versions = [s.name for s in steps], [s.version() for s in steps]
    data: StepOutput | None = None
    outputs = []
    for i, step in enumerate(steps):
        step.prepare(context)
        data = _stamped(step.run(data, context), chain_version(names[:i + 1], versions[:i + 1]))
        outputs.append((step.name, data))
    return outputs


def _stamped(output: StepOutput, version: str) -> StepOutput:
    return StepOutput(output.frames, tuple(replace(r, model_version=version) for r in output.results),
                      output.interpolated)


def _run_step(
    step: ChainStep, data: StepOutput | None, context: RunContext, version: str, out: Path,
) -> tuple[StepOutput, StepRecord]:
    started = time.perf_counter()
    step.prepare(context)
    ready = time.perf_counter()
    output = step.run(data, context)
    seconds = time.perf_counter() - ready
    output = _stamped(output, version)
    digest = write_snapshot(out / step.name, output)
    write_step_mot(out / step.name, step.name, output)
    record = StepRecord(step.spec.to_dict(), step.version(), step.parameters(), digest, seconds, len(output),
                        counts(output), setup_seconds=ready - started)
    return output, record


def _resume(
    steps: list[ChainStep], start: int, snapshot: Path, out: Path, source: str,
) -> tuple[StepOutput, list[StepRecord], str]:
    """The output of ``steps[start - 1]`` from ``snapshot``, the records of the steps before ``start``, and
    the snapshot's frame source (an error if ``source`` names another)."""
    manifest = read_manifest(snapshot)
    where = str(snapshot / "manifest.json")
    check_earlier(manifest, steps, start, where)
    if source and source != manifest.source:
        raise SnapshotMismatch(where, "source", f"the snapshot was made from {manifest.source!r}, not {source!r}")
    before = steps[start - 1].name
    record = manifest.step(before)
    assert record is not None  # check_earlier found it
    data = read_snapshot(snapshot / before, record.hash)
    if out.resolve() != snapshot.resolve():  # every earlier step's folder: the new run is complete on its own
        for step in steps[:start]:
            shutil.copytree(snapshot / step.name, out / step.name, dirs_exist_ok=True)
    records = [replace(r, ran=False) for s in steps[:start] if (r := manifest.step(s.name)) is not None]
    return data, records, manifest.source
