"""``shadowqa engine run|eval|export``: the automation engine from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from services.cli.parser import Parser, positive_int
from services.engine.chain import cli as chain_cli  # light: imports what it runs when it runs

if TYPE_CHECKING:  # the engine imports torch (~2 s): only commands that run a model pay for it
    from services.engine.run import RunReport

MODEL_HELP = "builtin:driving-detector, builtin:digits, or a TorchScript file with its .json spec beside it"
IMAGES_HELP = ("COCO JSON listing image files, an .npz, synthetic://driving?seed=S&n=N, "
               "synthetic://driving-seq?seed=S&clips=C&length=L (clips with track ids) or sklearn-digits://")


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    engine = commands.add_parser("engine", help="run, evaluate or export automation models")
    sub = engine.add_subparsers(dest="engine_command", required=True, parser_class=Parser)
    run = sub.add_parser("run", help="annotate frames with a model, or a chain of steps (--pipeline)")
    _model_args(run, required=False)
    run.add_argument("--out", required=True, metavar="RESULTS.json|DIR",
                     help="COCO results object to write; with --pipeline, a folder (a snapshot per step)")
    chain_cli.add_options(run)
    run.set_defaults(run=run_command)
    ev = sub.add_parser("eval", help="run a model, or a chain of steps (--pipeline), and score it against the frames' "
                        "ground truth")
    _model_args(ev, required=False)
    ev.add_argument("--out", metavar="RESULTS.json|DIR", help="also write the results; with --pipeline, the folder "
                    "the chain runs into (snapshots and manifest)")
    ev.add_argument("--spec", metavar="SPEC.yaml", help="quality spec for frame acceptance (default spec otherwise)")
    ev.add_argument("--clip-spec", metavar="CLIP_SPEC.yaml", help="with --pipeline: judge each clip's acceptance "
                    "at each step under this spec (see builtin:driving-clips)")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    chain_cli.add_eval_options(ev)
    ev.set_defaults(run=eval_command)
    ex = sub.add_parser("export", help="export a builtin model to TorchScript with its spec")
    ex.add_argument("--model", required=True, choices=("builtin:driving-detector", "builtin:digits"))
    ex.add_argument("--out", required=True, metavar="MODEL.pt", type=Path)
    ex.set_defaults(run=export_command)


def _model_args(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument("--model", required=required, help=MODEL_HELP)
    p.add_argument("--images", required=required, metavar="GT_OR_IMAGES", help=IMAGES_HELP)
    p.add_argument("--batch-size", type=positive_int, default=16, help="frames per forward pass (default 16)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _run(args: argparse.Namespace) -> RunReport:
    from services.engine.loading import load_runner
    from services.engine.run import run_frames
    from services.engine.sources import open_source

    runner = load_runner(args.model, args.device)
    source = open_source(args.images)
    runner.warm_up()
    progress = not args.no_progress and sys.stderr.isatty()
    return run_frames(runner, source, batch_size=args.batch_size, total=len(source), progress=progress)


def _report_failures(report: RunReport) -> None:
    failed = report.failed
    for r in failed[:10]:
        print(f"shadowqa: frame failed: {r.error}", file=sys.stderr)
    if len(failed) > 10:
        print(f"shadowqa: ... and {len(failed) - 10} more failed frames", file=sys.stderr)


def run_command(args: argparse.Namespace) -> int:
    from services.engine.results import to_coco_results
    from services.io.files import write_json

    chain_cli.check_options(args)
    if args.pipeline is not None:
        return chain_cli.run_pipeline_command(args)
    report = _run(args)
    write_json(args.out, to_coco_results(report.results), indent=False)
    _report_failures(report)
    ok = len(report.results) - len(report.failed)
    version = report.results[0].model_version if report.results else "-"
    print(f"{ok} frames annotated, {len(report.failed)} failed, {report.frames_per_second:.0f} frames/s "
          f"({version}); results in {args.out}")
    return 1 if report.failed else 0


def eval_command(args: argparse.Namespace) -> int:
    import orjson

    from services.engine.evaluate import evaluate, render_report
    from services.engine.results import to_coco_results
    from services.engine.sources import open_source
    from services.io.annotation_files import load_spec
    from services.io.files import write_json

    chain_cli.check_eval_options(args)
    if args.pipeline is not None:
        return chain_cli.eval_pipeline_command(args)
    spec = load_spec(args.spec)
    source = open_source(args.images)
    report = _run(args)
    if args.out:
        write_json(args.out, to_coco_results(report.results), indent=False)
    _report_failures(report)
    result = evaluate(report, source, spec)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(render_report(result))
    return 1 if report.failed else 0


def export_command(args: argparse.Namespace) -> int:
    from services.engine.loading import export_torchscript

    out = export_torchscript(args.model.removeprefix("builtin:"), args.out)
    print(f"wrote {out}, {out.with_suffix('.json')} and {out.with_suffix('.onnx')} (the CPU runtime's copy)")
    return 0
