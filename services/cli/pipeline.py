"""``shadowqa pipeline run``: the whole streaming pipeline on the local broker, start to finish (``make demo``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from analysis.exceptions import InvalidInput
from services.cli.loop_options import CLIP_WINDOW, add_loop_options, loop_config
from services.cli.parser import Parser, positive_int, rate, seconds

PLAIN_EVERY_S = 5.0  # the status as a plain line this often when stderr is not a terminal (CI, logs)
CLIP_LENGTH = 20  # the driving-seq profile's (services/datasets/profiles.py), not imported: the CLI loads lazily


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("pipeline", help="run the streaming pipeline end to end")
    sub = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    r = sub.add_parser(
        "run", help="provision Kafka, start the workers, feed frames, annotate, report, stop everything",
        description="Start Kafka if needed, create topics under a fresh prefix, start one worker per role and "
        "the persisting worker, the HTTP API and simulated annotators working its queue, feed N frames of the "
        "dataset (--dataset, default driving), show live progress until every frame is routed "
        "and every annotation compared, export the topics, check an offline recomputation against the online "
        "results, write summary.json and report.html, and stop everything this run started. The run takes as long "
        "as it needs while it moves: it gives up when nothing has moved for the stall window, naming the stage "
        "that stopped.",
    )
    r.add_argument("--frames", type=positive_int, default=4000, help="frames to feed (default 4000)")
    r.add_argument("--sequences", action="store_true",
                   help="run clips instead of frames: the driving-seq dataset's clips fed frame by frame, its chain of "
                   "steps (detect, track, post-process) run on each whole clip, each step's output on its own topic, "
                   "clip tasks annotated through the API with track ids, each clip compared and its errors "
                   "attributed to the steps (--frames does not apply)")
    r.add_argument("--clips", type=positive_int, default=40, metavar="N",
                   help="with --sequences: clips to feed (default 40)")
    r.add_argument("--clip-length", type=positive_int, default=CLIP_LENGTH, metavar="L",
                   help=f"with --sequences: frames per clip (default {CLIP_LENGTH})")
    r.add_argument("--rate", type=rate, default=80.0, help="frames per second (default 80)")
    r.add_argument("--seed", type=int, default=11, help="scene and annotator seed (default 11)")
    r.add_argument("--annotators", type=positive_int, default=8, help="simulated people (default 8)")
    add_loop_options(r)
    r.add_argument("--report", type=Path, default=Path("reports/demo"), metavar="DIR",
                   help="folder for the report, snapshots and worker logs, relative to the working directory "
                   "(default reports/demo)")
    r.add_argument("--stall-timeout", type=seconds, default=120.0, metavar="S",
                   help="give up when nothing has moved for S seconds, naming the stage that stopped (default 120)")
    r.add_argument("--timeout", type=seconds, default=None, metavar="S",
                   help="also give up after S seconds in all, however the run moves (default: no limit)")
    r.add_argument("--metrics-port", type=positive_int, metavar="BASE",
                   help="serve Prometheus metrics on 127.0.0.1: BASE automation, BASE+1 router, BASE+2 comparator, "
                   "BASE+3 aggregator, BASE+4 persist, BASE+5 the API (default: none, the API on a free port)")
    r.add_argument("--lease-seconds", type=seconds, default=10.0, metavar="S",
                   help="task lease of the API: an abandoned task is back in the queue after S s (default 10)")
    r.set_defaults(run=run)


def _of_clips(dataset: str) -> bool:
    from services.datasets.profiles import profile

    return profile(dataset).clip_spec is not None


def run(args: argparse.Namespace) -> int:
    from services.loop.step_shares import of_comparisons as step_shares
    from services.reporting.pipeline_report import run_summary, write_report
    from services.settings import load_settings
    from services.tools.pipeline_run import RunOptions, run_pipeline
    from services.tools.progress import ProgressLine

    clips = {"dataset": "driving-seq", **({} if args.window else {"window": CLIP_WINDOW})} if args.sequences else {}
    if not args.sequences and _of_clips(args.dataset):
        raise InvalidInput("pipeline run", "--dataset", f"{args.dataset} is a dataset of clips: run --sequences")
    common: dict[str, Any] = dict(
        rate=args.rate, seed=args.seed, annotators=args.annotators, loop=loop_config(args, **clips),
        out=args.report.resolve(),
        stall_s=args.stall_timeout, timeout_s=args.timeout, metrics_port=args.metrics_port, lease_s=args.lease_seconds)
    options = (RunOptions.of_clips(args.clips, args.clip_length, **common) if args.sequences
               else RunOptions(frames=args.frames, **common))
    with ProgressLine(every_s=PLAIN_EVERY_S) as line:  # a terminal: one live line; else a plain line every 5 s
        outcome = run_pipeline(load_settings(), options, say=lambda s: print(s, flush=True), progress=line.show)
    report = write_report(options, outcome, options.out)
    s = run_summary(options, outcome)
    print(outcome.tally.line(options.frames, options.unit))
    if options.clips is not None:
        print(step_shares(outcome.offline.comparisons).line())
    acc = s["acceptance"]
    if acc is not None and acc["estimate"] is not None:
        unit = "frames" if options.clips is None else "clips"
        print(f"machine acceptance over all {unit}: {acc['estimate']:.3f} [{acc['lower']:.3f}, {acc['upper']:.3f}] "
              f"({acc['n']:,} machine comparisons, 1/π-weighted)")
    if s["recommendation"] is not None:
        rec = s["recommendation"]
        print(f"recommendation: {rec['action']}, automation rate {rec['automation_rate']:.1%} — {rec['reason']}")
    if outcome.team is not None:
        print(outcome.team.line() + f"; database {s['database']}")
    offline = s["offline_replay"]
    print(f"offline replay of the snapshots: {'equal to' if offline['matches_online'] else 'DIFFERENT from'} "
          f"the online {' and '.join(offline['checked'])}")
    print(f"finished in {outcome.elapsed_s:.0f} s; report: {report}")
    return 0 if offline["matches_online"] else 1
