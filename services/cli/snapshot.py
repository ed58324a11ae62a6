"""``shadowqa snapshot export``: a topic, up to its current end, as a JSON Lines file."""

from __future__ import annotations

import argparse
from pathlib import Path

from services.cli.parser import Parser, add_kafka_options, kafka_target, rate
from services.infra.topic_names import PER_FRAME, SINGLE
from services.tools.progress import ProgressLine


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("snapshot", help="export topics to files",
                            description="Snapshots of the pipeline's topics, for offline replays and the gate.")
    sub = p.add_subparsers(dest="snapshot_command", required=True, parser_class=Parser)
    ex = sub.add_parser(
        "export", help="write every message of a topic, up to its current end, as JSON Lines",
        description="Read every partition of a topic from the beginning to its end offsets at the time of the "
        "call (no consumer group, nothing committed) and write one JSON value per line, ordered by the "
        "messages' time, key, partition and offset. A comparisons snapshot is a file shadowqa gate and "
        "shadowqa recommend read directly (with --kind machine, and --kind consensus for --consensus).",
    )
    ex.add_argument("--topic", required=True, choices=PER_FRAME + SINGLE, metavar="TOPIC",
                    help=f"topic, without prefix: {', '.join(PER_FRAME + SINGLE)}")
    ex.add_argument("--out", required=True, type=Path, metavar="FILE.jsonl", help="file to write")
    ex.add_argument("--with-metadata", action="store_true",
                    help='wrap each line as {"topic", "partition", "offset", "key", "value"}')
    ex.add_argument("--order", choices=("time", "offset"), default="time",
                    help="time: by the messages' time, key, partition, offset (default); offset: by partition, offset")
    ex.add_argument("--kind", metavar="KIND", help="keep only messages whose kind field is KIND (machine, consensus)")
    ex.add_argument("--timeout", type=rate, default=30.0, metavar="S",
                    help="give up when the end is not reached within S seconds (default 30)")
    add_kafka_options(ex)
    ex.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from services.tools.snapshot import export_snapshot

    bootstrap, names = kafka_target(args)
    topic = names.name(args.topic)
    with ProgressLine() as line:

        def show(read: int, total: int) -> None:
            line.show(f"snapshot: {read:,}/{total:,} messages of {topic}")

        summary = export_snapshot(bootstrap, topic, args.out, with_metadata=args.with_metadata, order=args.order,
                                  kind=args.kind, timeout_s=args.timeout, progress=show)
    print(summary.line())
    return 0
