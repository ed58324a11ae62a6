"""``shadowqa feed``: frames of a source as messages on the ``frames`` topic, at a steady rate."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from services.cli.parser import Parser, add_kafka_options, kafka_target, rate
from services.tools.progress import ProgressLine

if TYPE_CHECKING:
    from services.tools.feed import FeedProgress


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "feed", help="produce frame messages to the frames topic",
        description="Send a FrameMessage for every frame of a source to the frames topic, keyed by frame id, "
        "at --rate frames per second. Frames are sent as references; nothing is rendered.",
    )
    p.defer(_arguments)  # the sources' help comes from services.tools.feed, which loads the frame sources
    p.set_defaults(run=run)


def _arguments(p: Parser) -> None:
    from services.tools.feed import FEEDABLE

    p.add_argument("--source", required=True, metavar="SPEC", help=FEEDABLE)
    p.add_argument("--rate", type=rate, default=0.0, metavar="R", help="frames per second (default 0: as fast as "
                   "possible)")
    add_kafka_options(p)


def run(args: argparse.Namespace) -> int:
    from services.tools.feed import feed_to_kafka

    bootstrap, topics = kafka_target(args)
    with ProgressLine() as line:

        def show(p: FeedProgress) -> None:
            line.show(f"feed: {p.sent:,}/{p.total:,} frames ({p.rate:,.0f}/s)")

        summary = feed_to_kafka(args.source, bootstrap=bootstrap, topic=topics.frames, rate=args.rate, progress=show)
    print(summary.line())
    return 0
