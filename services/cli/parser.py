"""Argument parsing that reports mistakes in one line and exits with status 2."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from services.infra.topic_names import TopicNames

N = TypeVar("N", int, float)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are a single line on stderr, and whose arguments may come late.

    A command whose options need a heavy import (choices or help text from a module that loads numpy or a
    Kafka client) adds them in a function given to :meth:`defer`: it runs when that command parses or prints
    its help, so ``shadowqa --help`` and every other command start without that import.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred: list[Callable[[Parser], None]] = []

    def defer(self, add_arguments: Callable[[Parser], None]) -> None:
        """Call ``add_arguments(self)`` before this parser first parses or formats its help."""
        self._deferred.append(add_arguments)

    def complete(self) -> Parser:
        """This parser with its deferred arguments added (idempotent)."""
        while self._deferred:
            self._deferred.pop(0)(self)
        return self

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None,
    ) -> tuple[argparse.Namespace, list[str]]:
        self.complete()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self.complete()
        return super().format_usage()

    def format_help(self) -> str:
        self.complete()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def checked_float(text: str, ok: Callable[[float], bool], expected: str, must: str) -> float:
    """``text`` as a float ``ok`` accepts; else "expected EXPECTED, got 'TEXT'" or "must be MUST, got TEXT"."""
    return _checked(text, float, ok, expected, must)


def _checked(text: str, convert: Callable[[str], N], ok: Callable[[N], bool], expected: str, must: str) -> N:
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {must}, got {text}")
    return value


def unit_interval(text: str) -> float:
    """A float in (0, 1], for thresholds and probabilities."""
    return checked_float(text, lambda v: 0.0 < v <= 1.0, "a number in (0, 1]", "in (0, 1]")


def open_interval(text: str) -> float:
    """A float in (0, 1), for confidence levels."""
    value = unit_interval(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"must be below 1, got {text}")
    return value


def positive_int(text: str) -> int:
    return _checked(text, int, lambda v: v >= 1, "a positive integer", ">= 1")


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free one)."""
    return _checked(text, int, lambda v: 0 <= v <= 65535, "a port number", "0 to 65535")


def seconds(text: str) -> float:
    """A duration in seconds, a finite number > 0."""
    return checked_float(text, lambda v: math.isfinite(v) and v > 0, "a number of seconds > 0",
                         "a finite number > 0")


def rate(text: str) -> float:
    """Frames per second, a finite number >= 0."""
    return checked_float(text, lambda v: math.isfinite(v) and v >= 0, "a number >= 0", "a finite number >= 0")


def weight(text: str) -> float:
    """A bound on the weights 1/π: a finite number >= 1."""
    return checked_float(text, lambda v: math.isfinite(v) and v >= 1.0, "a number >= 1",
                         "a finite number >= 1 (1/π_min)")


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
