"""``shadowqa engine run --pipeline SPEC.yaml`` and ``shadowqa engine eval --pipeline SPEC.yaml``: the options
and the commands, kept here so the CLI module only wires them in.

``--out DIR`` receives a folder per step (``output.npz``, ``results.json``, and ``mot/<clip>.txt`` for a step
with track ids) and ``manifest.json``;
``--from-step STEP --snapshot DIR`` runs STEP and the steps after it from the run in DIR (``--images`` may
then be left out; if given it must be the snapshot's source); ``--results RESULTS.json`` also writes the last
step's COCO results where ``engine run --model`` writes its results, for tools that read that file.

``engine eval --pipeline SPEC --images SRC [--snapshot DIR] [--json]`` runs the chain (into ``--out DIR`` if
given, else a temporary folder), or reads the finished run in ``--snapshot DIR`` (its steps must be the
pipeline's; ``--images`` defaults to its source), and judges every step against the source's ground truth,
per clip and overall, naming the limiting step (:mod:`services.engine.chain.evaluate`); with
``--clip-spec CLIP_SPEC.yaml`` also whether each clip passes that spec at each step, and the share of clips each
step would ship, overall and per stratum (:mod:`services.engine.chain.clip_acceptance`).

The module imports nothing heavy until a command runs: ``shadowqa`` parses its options without numpy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.exceptions import InvalidInput

if TYPE_CHECKING:
    from services.engine.chain.evaluate import ChainEvaluation
    from services.engine.chain.run import ChainReport


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("a chain of steps")
    group.add_argument("--pipeline", metavar="SPEC.yaml",
                       help="run a chain of steps (see builtin:driving-chain) instead of --model; "
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


def add_eval_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("a chain of steps, judged step by step")
    group.add_argument("--pipeline", metavar="SPEC.yaml", help="judge every step of this chain instead of --model")
    group.add_argument("--snapshot", metavar="DIR", type=Path,
                       help="judge the finished run in DIR (an `engine run --pipeline --out` folder) without running")
    group.add_argument("--iou-threshold", type=float, default=0.5, metavar="IOU",
                       help="a box matches the truth at IoU >= this (default 0.5)")
    group.add_argument("--untracked", choices=("drop", "singleton"), default="drop",
                       help="boxes a tracking step left without an id: not its output (drop, default), or each a "
                       "track of its own")


def check_eval_options(args: argparse.Namespace) -> None:
    """Refuse option combinations of ``engine eval`` that mean nothing, naming them."""
    if args.pipeline is None:
        for option, value in (("--snapshot", args.snapshot), ("--clip-spec", args.clip_spec)):
            if value is not None:
                raise InvalidInput(option, "", "only with --pipeline")
        if args.model is None or args.images is None:
            raise InvalidInput("engine eval", "", "give --model and --images, or --pipeline")
        return
    for option, value in (("--model", args.model), ("--spec", args.spec)):
        if value is not None:
            raise InvalidInput(option, "", "not with --pipeline" + (": the frame rules go in --clip-spec's frames"
                                                                     if option == "--spec" else ""))
    if args.snapshot is not None and args.out is not None:
        raise InvalidInput("--out", "", "not with --snapshot: the run to judge is already written")
    if args.snapshot is None and args.images is None:
        raise InvalidInput("--images", "", "required to run the pipeline (or give --snapshot DIR)")
    if not 0.0 <= args.iou_threshold <= 1.0:
        raise InvalidInput("--iou-threshold", "", f"must be in [0, 1], got {args.iou_threshold}")


def eval_pipeline_command(args: argparse.Namespace) -> int:
    import tempfile

    from services.engine.chain.clip_acceptance import load_clip_spec
    from services.engine.chain.evaluate import evaluate_run, render_evaluation
    from services.engine.sources import open_source

    clip_spec = None if args.clip_spec is None else load_clip_spec(args.clip_spec)
    with tempfile.TemporaryDirectory(prefix="shadowqa-chain-") as scratch:
        folder = _judged_run(args, Path(args.out) if args.out else Path(scratch))
        source = open_source(args.images or _snapshot_source(args.snapshot))
        truth = source.ground_truth()
        if truth is None:
            raise InvalidInput(source.name, "", "has no ground truth to evaluate against")
        result = evaluate_run(folder, truth, iou_threshold=args.iou_threshold, untracked=args.untracked,
                              clip_spec=clip_spec)
    if args.json:
        _print_json(result)
    else:
        print(render_evaluation(result))
    return 0


def _judged_run(args: argparse.Namespace, out: Path) -> Path:
    """The folder of the run to judge: ``--snapshot`` checked against the pipeline, or a fresh run in ``out``."""
    from services.engine.chain.exceptions import SnapshotMismatch
    from services.engine.chain.manifest import check_earlier, read_manifest
    from services.engine.chain.run import build_steps, run_chain
    from services.engine.chain.spec import load_pipeline
    from services.engine.chain.step import RunContext
    from services.engine.sources import open_source

    spec = load_pipeline(args.pipeline)
    if args.snapshot is not None:
        manifest, where = read_manifest(args.snapshot), str(args.snapshot / "manifest.json")
        steps = build_steps(spec)
        check_earlier(manifest, steps, len(steps), where)
        if len(manifest.steps) != len(steps):
            raise SnapshotMismatch(where, "steps", f"the run has {len(manifest.steps)} steps, the pipeline "
                                   f"{len(steps)}")
        if args.images is not None and args.images != manifest.source:
            raise SnapshotMismatch(where, "source", f"the run was made from {manifest.source!r}, not {args.images!r}")
        return Path(args.snapshot)
    context = RunContext(open_source(args.images), args.batch_size, args.device,
                         not args.no_progress and sys.stderr.isatty())
    run_chain(spec, out, context, source=args.images, where=args.pipeline)
    return out


def _snapshot_source(folder: Path) -> str:
    from services.engine.chain.manifest import read_manifest

    return read_manifest(folder).source


def _print_json(result: ChainEvaluation) -> None:
    import orjson

    sys.stdout.buffer.write(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
