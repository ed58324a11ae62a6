"""``shadowqa feed``: frames of a source as messages on the ``frames`` topic, at a steady rate."""

from __future__ import annotations

import argparse
import math

from services.cli.parser import Parser
from services.infra.topic_names import TopicNames
from services.settings import load_settings
from services.tools.feed import FEEDABLE, FeedProgress, feed_to_kafka
from services.tools.progress import ProgressLine


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser(
        "feed", help="produce frame messages to the frames topic",
        description="Send a FrameMessage for every frame of a source to the frames topic, keyed by frame id, "
        "at --rate frames per second. Frames are sent as references; nothing is rendered.",
    )
    p.add_argument("--source", required=True, metavar="SPEC", help=FEEDABLE)
    p.add_argument("--rate", type=rate, default=0.0, metavar="R", help="frames per second (default 0: as fast as "
                   "possible)")
    p.add_argument("--bootstrap", metavar="HOST:PORT", help="Kafka bootstrap (default SHADOWQA_KAFKA_BOOTSTRAP)")
    p.add_argument("--prefix", metavar="P", help="topic name prefix (default SHADOWQA_TOPIC_PREFIX)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    bootstrap = args.bootstrap or settings.kafka_bootstrap
    topics = TopicNames(settings.topic_prefix if args.prefix is None else args.prefix)
    line = ProgressLine()

    def show(p: FeedProgress) -> None:
        line.show(f"feed: {p.sent:,}/{p.total:,} frames ({p.rate:,.0f}/s)")

    summary = feed_to_kafka(args.source, bootstrap=bootstrap, topic=topics.frames, rate=args.rate, progress=show)
    line.done()
    print(summary.line())
    return 0


def rate(text: str) -> float:
    """Frames per second, a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value
