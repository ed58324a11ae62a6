"""``shadowqa engine run --pipeline SPEC.yaml``: the options and the command, kept here so the CLI module
only wires them in.

``--out DIR`` receives a folder per step (``output.npz``, ``results.json``) and ``manifest.json``;
``--from-step STEP --snapshot DIR`` runs STEP and the steps after it from the run in DIR (``--images`` may
then be left out; if given it must be the snapshot's source); ``--results RESULTS.json`` also writes the last
step's COCO results where ``engine run --model`` writes its results, for tools that read that file.

The module imports nothing heavy until a command runs: ``shadowqa`` parses its options without numpy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.exceptions import InvalidInput

if TYPE_CHECKING:
    from services.engine.chain.run import ChainReport


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("a chain of steps")
    group.add_argument("--pipeline", metavar="SPEC.yaml",
                       help="run a chain of steps (see examples/pipelines/driving.yaml) instead of --model; "
                       "--out is then a folder: each step's snapshot and manifest.json")
    group.add_argument("--from-step", metavar="STEP", help="run only STEP and the steps after it, from --snapshot")
    group.add_argument("--snapshot", metavar="DIR", type=Path, help="the --out folder of an earlier --pipeline run")
    group.add_argument("--results", metavar="RESULTS.json", type=Path,
                       help="also write the last step's COCO results to this file")


def check_options(args: argparse.Namespace) -> None:
    """Refuse option combinations that mean nothing, naming them."""
    if args.pipeline is None:
        for option, value in (("--from-step", args.from_step), ("--snapshot", args.snapshot),
                              ("--results", args.results)):
            if value is not None:
                raise InvalidInput(option, "", "only with --pipeline")
        if args.model is None or args.images is None:
            raise InvalidInput("engine run", "", "give --model and --images, or --pipeline")
        return
    if args.model is not None:
        raise InvalidInput("--model", "", "not with --pipeline: the pipeline's detect step names its model")
    if (args.from_step is None) != (args.snapshot is None):
        raise InvalidInput("--from-step", "", "--from-step and --snapshot go together")


def run_pipeline_command(args: argparse.Namespace) -> int:
    from services.engine.chain.run import run_chain
    from services.engine.chain.snapshot import coco_results
    from services.engine.chain.spec import load_pipeline
    from services.engine.chain.step import RunContext
    from services.engine.sources import open_source

    spec = load_pipeline(args.pipeline)
    start = 0 if args.from_step is None else spec.index(args.from_step, args.pipeline)
    if start == 0 and args.images is None:
        raise InvalidInput("--images", "", "required to run a pipeline from its first step")
    frames = open_source(args.images) if start == 0 else None
    context = RunContext(frames, args.batch_size, args.device, not args.no_progress and sys.stderr.isatty())
    report = run_chain(spec, Path(args.out), context, source=args.images or "", from_step=args.from_step,
                       snapshot=args.snapshot, where=args.pipeline)
    if args.results is not None:
        from services.io.files import write_json

        write_json(args.results, coco_results(report.output), indent=False)
    print(render(report, args.results))
    return 1 if any(not r.ok for r in report.output.results) else 0


def render(report: ChainReport, results: Path | None) -> str:
    """Per step: frames, seconds, frames/s and version; then the chain's model version and where output went."""
    manifest, lines = report.manifest, []
    for s in manifest.steps:
        fps = s.frames_per_second
        note = "" if s.ran else " (from snapshot)"
        lines.append(f"{s.name:<12} {s.frames:>6} frames {s.seconds:>8.3f} s {fps:>9.1f} frames/s (set-up "
                     f"{s.setup_seconds:.2f} s)  {s.version}{note}")
    counts = manifest.steps[-1].counts
    lines.append(f"{counts.get('frames', 0)} frames, {counts.get('failed', 0)} failed, {counts.get('boxes', 0)} "
                 f"boxes in {counts.get('tracks', 0)} tracks ({manifest.model_version})")
    lines.append(f"snapshots and manifest in {report.out}" + (f"; results in {results}" if results else ""))
    return "\n".join(lines)
