"""Entry point of the ``shadowqa`` command."""

from __future__ import annotations

import contextlib
import faulthandler
import io
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points, version

from analysis.exceptions import ShadowQAError
from services.cli import (
    api,
    compare,
    dashboards,
    dataset,
    db,
    engine,
    feed,
    gate,
    infra,
    labelstudio,
    pipeline,
    recommend,
    replay,
    simulate,
    snapshot,
)
from services.cli.parser import Parser, fail


def build_parser() -> Parser:
    parser = Parser(prog="shadowqa", description="Shadow-mode quality validation for annotation automation.")
    parser.add_argument("--version", action="version", version=f"shadowqa {version('shadowqa')}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    api.register(commands)
    compare.register(commands)
    dashboards.register(commands)
    dataset.register(commands)
    db.register(commands)
    engine.register(commands)
    gate.register(commands)
    infra.register(commands)
    labelstudio.register(commands)
    recommend.register(commands)
    pipeline.register(commands)
    replay.register(commands)
    for command in entry_points(group="shadowqa.commands"):  # commands of other folders: `worker` (streams/cli.py)
        command.load()(commands)
    feed.register(commands)
    simulate.register(commands)
    snapshot.register(commands)
    return parser


def stacks_on_sigusr1() -> None:
    """`kill -USR1 PID` writes where every thread of the command is to its stderr (how a hung tool is read before
    ``pipeline run`` kills it); nothing when stderr is not a file (a test capturing it)."""
    with contextlib.suppress(io.UnsupportedOperation, AttributeError, ValueError):
        faulthandler.register(signal.SIGUSR1, all_threads=True)


def main(argv: Sequence[str] | None = None) -> int:
    stacks_on_sigusr1()
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except ShadowQAError as exc:
        return fail(str(exc))
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("shadowqa: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
