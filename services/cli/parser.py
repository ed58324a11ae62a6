"""Argument parsing that reports mistakes in one line and exits with status 2."""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from services.infra.topic_names import TopicNames


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are a single line on stderr."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def unit_interval(text: str) -> float:
    """A float in (0, 1], for thresholds and probabilities."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def open_interval(text: str) -> float:
    """A float in (0, 1), for confidence levels."""
    value = unit_interval(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"must be below 1, got {text}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def seconds(text: str) -> float:
    """A duration in seconds, a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def rate(text: str) -> float:
    """Frames per second, a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def add_kafka_options(p: argparse.ArgumentParser) -> None:
    """``--bootstrap`` and ``--prefix``, defaulting to the SHADOWQA_* settings (read by :func:`kafka_target`)."""
    p.add_argument("--bootstrap", metavar="HOST:PORT", help="Kafka bootstrap (default SHADOWQA_KAFKA_BOOTSTRAP)")
    p.add_argument("--prefix", metavar="P", help="topic name prefix (default SHADOWQA_TOPIC_PREFIX)")


def kafka_target(args: argparse.Namespace) -> tuple[str, TopicNames]:
    """The bootstrap and topic names the options (or else the settings) name."""
    from services.infra.topic_names import TopicNames
    from services.settings import load_settings

    settings = load_settings()
    prefix = settings.topic_prefix if args.prefix is None else args.prefix
    return args.bootstrap or settings.kafka_bootstrap, TopicNames(prefix)


def fail(message: str) -> int:
    print(f"shadowqa: error: {message}", file=sys.stderr)
    return 2
