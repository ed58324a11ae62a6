"""``shadowqa db upgrade|current``: the schema migrations of the database at SHADOWQA_DATABASE_URL.

Exit status 0 on success, 2 with a one-line reason (a bad URL, a server that does not answer, an
unknown revision); the password of the URL is never printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from analysis.exceptions import ShadowQAError
from services.cli.parser import Parser

T = TypeVar("T")


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    p = commands.add_parser("db", help="migrate the database or show its schema revision",
                            description="Alembic migrations of the database at SHADOWQA_DATABASE_URL "
                            "(default sqlite:///shadowqa.sqlite3).")
    actions = p.add_subparsers(dest="db_command", required=True, parser_class=Parser)
    up = actions.add_parser("upgrade", help="migrate up to a revision (default: the newest, head)")
    up.add_argument("--revision", default="head", metavar="R", help="target revision (default head)")
    up.set_defaults(run=run_upgrade)
    current = actions.add_parser("current", help="print the revision the database is at, and the newest one")
    current.set_defaults(run=run_current)


def run_upgrade(args: argparse.Namespace) -> int:
    from services.db.engine import current_revision, upgrade

    url = _url()
    before = _guard(url, lambda: current_revision(url))
    _guard(url, lambda: upgrade(url, args.revision))
    after = _guard(url, lambda: current_revision(url))
    print(f"{_shown(url)}: {before or 'empty'} -> {after or 'empty'}")
    return 0


def run_current(args: argparse.Namespace) -> int:
    from services.db.engine import current_revision, head_revision

    url = _url()
    revision = _guard(url, lambda: current_revision(url))
    head = head_revision()
    where = "head" if revision == head else f"head is {head}: run `shadowqa db upgrade`"
    print(f"{_shown(url)}: {revision or 'not migrated'} ({where})")
    return 0


def _guard(url: str, step: Callable[[], T]) -> T:
    """Run ``step``; a server that does not answer or an unknown revision becomes one line without the password."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import OperationalError

    try:
        return step()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        raise ShadowQAError(f"cannot reach the database at {_shown(url)}: {reason}") from None
    except CommandError as exc:
        raise ShadowQAError(f"{_shown(url)}: {exc}") from None


def _url() -> str:
    from pydantic import ValidationError

    from services.settings import load_settings

    try:
        return load_settings().database_url
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ShadowQAError(f"SHADOWQA_{'.'.join(str(p) for p in first['loc']).upper()}: {first['msg']}") from None


def _shown(url: str) -> str:
    """``url`` with its password hidden (``***``); the URL is valid here, ``make_engine`` refused it otherwise."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: say nothing of it (it may hold a password)
        return "the configured database"
