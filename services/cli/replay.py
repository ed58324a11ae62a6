"""``shadowqa replay``: the whole shadow loop offline, in one process, with an HTML report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.exceptions import InvalidInput
from services.cli.loop_options import add_loop_options, loop_config
from services.cli.parser import Parser, positive_int

if TYPE_CHECKING:
    from services.loop.config import LoopConfig


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "replay", help="run engine → router → blind annotators → comparator → gate/recommender offline",
        description="Replay the shadow loop over a dataset frame by frame, starting from automation rate 0, "
        "with simulated annotators, the recommender stepping every --window machine comparisons as the streaming "
        "aggregator does; write summary.json and report.html. With --from-snapshot DIR, recompute the streaming "
        "comparator and aggregator from topic snapshots (DIR/<topic>.jsonl) instead, and check them against the "
        "online comparisons, agreement-stats and recommendations when DIR has them (exit 1 if they differ); the "
        "loop options must then be the online run's.",
    )
    p.add_argument("--from-snapshot", type=Path, metavar="DIR",
                   help="folder of `shadowqa snapshot export` files: automation-results, manual-queue, "
                   "deliveries, manual-annotations (and optionally comparisons, agreement-stats, recommendations)")
    p.add_argument("--json", action="store_true", help="with --from-snapshot: print the result as JSON")
    p.add_argument("--dataset", default="driving", metavar="NAME",
                   help="dataset profile: driving, digits or driving-seq (builtin:driving, builtin:digits and "
                   "builtin:driving-seq are accepted as aliases; driving-seq is replayed clip by clip through its "
                   "chain, detect -> track -> post, and reports which step limits it); a frame source spec judged "
                   "as its dataset with its reference model, e.g. "
                   "'sklearn-digits://?split=all&second_camera=0.3' (a share of the digits from a second camera "
                   "whose crop sits a pixel lower, tagged camera=a|b) or 'synthetic://driving?seed=1&n=500'; or a "
                   "COCO JSON of frames with ground truth judged as driving (needs --model; default driving)")
    p.add_argument("--report", type=Path, metavar="DIR", help="folder for summary.json and report.html (required "
                   "without --from-snapshot; with it, report.html is the run report a streaming run writes, rebuilt "
                   "from the snapshots)")
    p.add_argument("--frames", type=positive_int, help="frames to replay (default 3000 for driving, 1797 for digits; "
                   "a dataset of clips takes --clips)")
    p.add_argument("--clips", type=positive_int, help="a dataset of clips (driving-seq): clips to replay, each a loop "
                   "unit of 20 frames (default 150)")
    p.add_argument("--pipeline", metavar="SPEC.yaml", help="a dataset of clips: the chain to replay (a pipeline spec "
                   "as `shadowqa engine run --pipeline` takes; default the dataset's, builtin:driving-chain)")
    p.add_argument("--seed", type=int, default=0, help="scene and annotator seed (default 0)")
    p.add_argument("--strata", metavar="TAG[,TAG]", default="",
                   help="frame tags whose values make a frame's stratum, e.g. time_of_day or digit (default: one "
                   "stratum); per-stratum policies such as --sampling neyman allocate over them")
    add_loop_options(p, dataset=False)
    p.add_argument("--spec", metavar="SPEC.yaml", help="quality spec (default: the dataset's)")
    p.add_argument("--model", help="model to replay (default: the dataset's reference model)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.from_snapshot is not None:
        return _from_snapshot(args)
    if args.report is None:
        raise InvalidInput("replay", "--report", "required (a folder for summary.json and report.html)")
    from services.datasets.profiles import profile
    from services.io.annotation_files import load_spec
    from services.replay.config import ReplayConfig
    from services.replay.run import replay

    loop, source = _loop(args)
    clips = source is None and profile(loop.dataset).clip_spec is not None
    _units(args, loop.dataset, clips)
    frames = (args.clips if clips else args.frames) or profile(loop.dataset).default_frames
    model = args.model
    if source is not None and "://" in source:
        from services.engine.sources import open_source

        if args.frames is not None:
            raise InvalidInput("replay", "--frames", f"the frame source {source!r} sets the frames (&n=N)")
        frames, model = len(open_source(source)), model or profile(loop.dataset).reference_model
    cfg = ReplayConfig(
        loop=loop, frames=frames, seed=args.seed, source=source, spec=load_spec(args.spec) if args.spec else None,
        model=model, device=args.device, strata=tuple(t for t in args.strata.split(",") if t), pipeline=args.pipeline,
    )
    out = replay(cfg, args.report, progress=not args.no_progress and sys.stderr.isatty())
    s = out.summary
    est = s["estimated_population_acceptance"]
    replayed = f"{s['clips']} clips ({s['frames']} frames)" if clips else f"{s['frames']} frames"
    print(f"replayed {replayed} of {s['dataset']} through {s['model_version']}")
    print(f"acceptance: true {s['true_population_acceptance']:.3f}, estimated {est['estimate']:.3f} "
          f"[{est['lower']:.3f}, {est['upper']:.3f}]")
    shipped = s["shipped"]["true_acceptance"]
    print(f"automation: final rate {s['final_automation_rate']:.1%} (oracle {s['oracle']['automation_rate']:.1%}); "
          f"{s['shipped']['frames']} {'clips' if clips else 'frames'} shipped"
          + (f", true acceptance {shipped:.3f}" if shipped else ""))
    if clips:
        _print_steps(s["steps"])
    print(f"report: {out.report_path}")
    return 0


def _units(args: argparse.Namespace, dataset: str, clips: bool) -> None:
    """A dataset of clips is counted in clips (--clips), any other in frames (--frames)."""
    if clips and args.frames is not None:
        raise InvalidInput("replay", "--frames", f"{dataset} is replayed clip by clip: give --clips N (20 frames each)")
    if not clips and args.clips is not None:
        raise InvalidInput("replay", "--clips", f"{args.dataset} is replayed frame by frame: give --frames N")
    if clips and args.spec is not None:
        raise InvalidInput("replay", "--spec", f"{dataset} is judged clip by clip by its clip spec, not a frame spec")
    if not clips and args.pipeline is not None:
        raise InvalidInput("replay", "--pipeline", f"{args.dataset} is replayed frame by frame through a model "
                           "(--model); a pipeline is for a dataset of clips such as driving-seq")


def _print_steps(steps: dict[str, Any]) -> None:
    """Per step: clips accepted at it and its share of the final errors, estimated beside true."""
    est, truth = steps["estimate"], steps["truth"]
    print(f"limiting step: {est['limiting'] or 'none'} (estimated from {est['clips']} compared clips), "
          f"{truth['limiting'] or 'none'} over all {truth['clips']} clips against person 1")
    print(f"  {'step':<10} {'accepted':>9} {'true':>7} {'errors':>7} {'share':>7} {'weighted':>9} {'true':>7}")
    for e, t in zip(est["steps"], truth["steps"], strict=True):
        print(f"  {e['name']:<10} {_pct(e['accepted_share']):>9} {_pct(t['accepted_share']):>7} "
              f"{e['attributed']:>7} {_pct(e['share']):>7} {_pct(e['weighted_share']):>9} {_pct(t['share']):>7}")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _from_snapshot(args: argparse.Namespace) -> int:
    import orjson

    from services.loop.offline import replay_snapshot, result_document

    folder: Path = args.from_snapshot
    if not folder.is_dir():
        raise InvalidInput(str(folder), "--from-snapshot", "not a folder")
    loop, source = _loop(args)
    if source is not None:
        raise InvalidInput("replay", "--dataset", f"--from-snapshot needs a dataset profile, got {source!r}")
    result = replay_snapshot(folder, loop)
    if args.report is not None:
        from services.report.build import build_report
        from services.report.snapshot import snapshot_view

        args.report.mkdir(parents=True, exist_ok=True)
        (args.report / "report.html").write_text(build_report(snapshot_view(folder, loop, result=result)))
        print(f"report: {args.report / 'report.html'}", file=sys.stderr)
    if args.json:
        print(orjson.dumps(result_document(result), option=orjson.OPT_INDENT_2).decode())
    else:
        print(f"recomputed {len(result.comparisons):,} comparisons from {folder}"
              + (f" ({result.rejected:,} invalid records skipped)" if result.rejected else ""))
        for stratum, s in result.stats.items():
            est = "n/a" if s.estimate is None else f"{s.estimate:.4f}"
            print(f"  {stratum}: n {s.n:,}, acceptance {est} [{s.lower:.4f}, {s.upper:.4f}], {s.decision}")
        if result.checked:
            verdict = "equal" if result.matches else "DIFFERENT"
            print(f"online {' and '.join(result.checked)}: {verdict}")
            for problem in result.problems[:20]:
                print(f"  {problem}")
    return 0 if result.matches else 1


def _loop(args: argparse.Namespace) -> tuple[LoopConfig, str | None]:
    """The loop's settings, and the frames' source when ``--dataset`` names a frame source spec or a COCO JSON
    rather than a profile (a spec is judged as the dataset its scheme names, a COCO JSON as driving)."""
    from services.datasets.profiles import DIGITS, DRIVING
    from services.loop.datasets import profile_names

    scheme, sep, _ = args.dataset.partition("://")
    if sep:
        judged = {"sklearn-digits": DIGITS.name, "synthetic": DRIVING.name}.get(scheme)
        if judged is None:
            raise InvalidInput("replay", "--dataset", f"no dataset profile judges frames from '{scheme}://' "
                               "(expected sklearn-digits:// or synthetic://)")
        return loop_config(argparse.Namespace(**{**vars(args), "dataset": judged})), args.dataset
    if args.dataset.endswith(".json") and args.dataset not in profile_names():
        return loop_config(argparse.Namespace(**{**vars(args), "dataset": DRIVING.name})), args.dataset
    return loop_config(args), None
