"""``shadowqa simulate annotators``: simulated blind people working the manual queue on the broker."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from services.cli.parser import Parser, add_kafka_options, kafka_target, positive_int, rate
from services.tools.progress import ProgressLine

if TYPE_CHECKING:
    from services.tools.annotator_pool import PoolSummary


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("simulate", help="simulate the people around the pipeline",
                            description="Simulated participants of the shadow loop, on the real broker.")
    sub = p.add_subparsers(dest="simulate_command", required=True, parser_class=Parser)
    a = sub.add_parser(
        "annotators", help="annotate manual tasks blind, as simulated people",
        description="Consume manual-queue as one consumer group member; K simulated people annotate each task "
        "from its frame's ground truth through the human error model of the offline replay, and produce "
        "manual-annotations (invalid tasks go to dead-letters). Annotations depend only on (seed, frame, copy).",
    )
    a.defer(_annotators_arguments)  # the error models come from services.tools.annotators, a heavy import
    a.set_defaults(run=run)


def _annotators_arguments(a: Parser) -> None:
    from services.tools.annotators import SCALES

    a.add_argument("--workers", type=positive_int, default=4, metavar="K", help="simulated people (default 4)")
    a.add_argument("--error-model", choices=tuple(SCALES), default="default",
                   help="default: the replay's human error model; careful: half its rates; sloppy: three times")
    a.add_argument("--delay-ms", type=rate, default=0.0, metavar="M",
                   help="mean time a person takes per task, exponentially distributed (default 0)")
    stop = a.add_mutually_exclusive_group()
    stop.add_argument("--stop-after", type=positive_int, metavar="N", help="stop after taking N tasks")
    stop.add_argument("--idle-seconds", type=_seconds, metavar="S", help="stop after S seconds without a task")
    a.add_argument("--seed", type=int, default=0, help="annotator seed (default 0, as the replay's)")
    a.add_argument("--group", help="consumer group (default <prefix>shadowqa-annotators)")
    a.add_argument("--ready-file", type=Path, metavar="PATH",
                   help="write PATH once the group has handed the people partitions of the queue (a supervisor "
                        "waits for it before feeding frames)")
    add_kafka_options(a)


def run(args: argparse.Namespace) -> int:
    from services.tools.annotator_pool import PoolOptions, simulate_annotators

    bootstrap, topics = kafka_target(args)
    options = PoolOptions(
        workers=args.workers, error_model=args.error_model, seed=args.seed, delay_ms=args.delay_ms,
        stop_after=args.stop_after, idle_seconds=args.idle_seconds,
        group=args.group or f"{topics.prefix}shadowqa-annotators",
    )
    with ProgressLine() as line:

        def show(s: PoolSummary) -> None:
            line.show(f"annotators: {s.annotated:,} annotated, {s.dead_letters:,} dead letters")

        ready = None if args.ready_file is None else (lambda: args.ready_file.write_text("ready\n"))
        summary = simulate_annotators(bootstrap, topics, options, progress=show, on_ready=ready)
    print(summary.line())
    return 130 if summary.interrupted else 0


def _seconds(text: str) -> float:
    value = rate(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value
