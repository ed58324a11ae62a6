"""``shadowqa replay``: the whole shadow loop offline, in one process, with an HTML report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.exceptions import InvalidInput
from services.cli.parser import Parser, open_interval, positive_int


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "replay", help="run engine → router → blind annotators → comparator → gate/recommender offline",
        description="Replay the shadow loop over a dataset in time windows, starting from automation rate 0, "
        "with simulated annotators; write summary.json and report.html. With --from-snapshot DIR, recompute "
        "the streaming comparator and aggregator from topic snapshots (DIR/<topic>.jsonl) instead, and check "
        "them against the online comparisons and agreement-stats when DIR has them (exit 1 if they differ).",
    )
    p.add_argument("--from-snapshot", type=Path, metavar="DIR",
                   help="folder of `shadowqa snapshot export` files: automation-results, manual-queue, "
                   "deliveries, manual-annotations (and optionally comparisons, agreement-stats)")
    p.add_argument("--json", action="store_true", help="with --from-snapshot: print the result as JSON")
    p.add_argument("--dataset", default="builtin:driving", help="builtin:driving, builtin:digits or a COCO JSON")
    p.add_argument("--report", type=Path, metavar="DIR", help="folder for summary.json and report.html (required "
                   "without --from-snapshot)")
    p.add_argument("--frames", type=positive_int, help="frames to replay (default 3000 for driving, 1797 for digits)")
    p.add_argument("--seed", type=int, default=0, help="scene, annotator and routing seed (default 0)")
    p.add_argument("--window", type=positive_int, default=150, help="frames between policy updates (default 150)")
    p.add_argument("--target", type=open_interval, default=0.85, help="required acceptance (default 0.85)")
    p.add_argument("--alpha", type=open_interval, default=0.05, help="error probability (default 0.05)")
    p.add_argument("--audit-floor", type=open_interval, default=0.25, help="smallest audit π (default 0.25)")
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
    from services.io.annotation_files import load_spec
    from services.replay.config import ReplayConfig
    from services.replay.run import replay

    frames = args.frames or (1797 if args.dataset == "builtin:digits" else 3000)
    cfg = ReplayConfig(
        dataset=args.dataset, frames=frames, seed=args.seed, window=min(args.window, frames), target=args.target,
        alpha=args.alpha, audit_floor=args.audit_floor, spec=load_spec(args.spec) if args.spec else None,
        model=args.model, device=args.device,
    )
    out = replay(cfg, args.report, progress=not args.no_progress and sys.stderr.isatty())
    s = out.summary
    est = s["estimated_population_acceptance"]
    print(f"replayed {s['frames']} frames of {s['dataset']} through {s['model_version']}")
    print(f"acceptance: true {s['true_population_acceptance']:.3f}, estimated {est['estimate']:.3f} "
          f"[{est['lower']:.3f}, {est['upper']:.3f}]")
    shipped = s["shipped"]["true_acceptance"]
    print(f"automation: final rate {s['final_automation_rate']:.1%} (oracle {s['oracle']['automation_rate']:.1%}); "
          f"{s['shipped']['frames']} frames shipped" + (f", true acceptance {shipped:.3f}" if shipped else ""))
    print(f"report: {out.report_path}")
    return 0


def _from_snapshot(args: argparse.Namespace) -> int:
    import orjson

    from services.loop.offline import replay_snapshot, result_document

    folder: Path = args.from_snapshot
    if not folder.is_dir():
        raise InvalidInput(str(folder), "--from-snapshot", "not a folder")
    dataset = "digits" if args.dataset == "builtin:digits" else "driving"
    result = replay_snapshot(folder, dataset, target=args.target, alpha=args.alpha)
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
