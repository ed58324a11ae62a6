"""Entry point of the ``shadowqa`` command."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from analysis.exceptions import ShadowQAError
from services.cli import compare
from services.cli.parser import Parser, fail


def build_parser() -> Parser:
    parser = Parser(prog="shadowqa", description="Shadow-mode quality validation for annotation automation.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    compare.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except ShadowQAError as exc:
        return fail(str(exc))
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
