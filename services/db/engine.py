"""Engines, sessions and schema migrations, from a database URL given by the caller.

``sqlite:///path.db`` (a file), ``sqlite://`` (in memory, one shared
connection) and ``postgresql+<driver>://...`` URLs are accepted. Migrations run
programmatically (no ``alembic.ini``), from the package's ``migrations/``
folder, so they work from an installed package too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from services.db.exceptions import InvalidDatabaseUrl

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_URL = "sqlite:///shadowqa.sqlite3"
CONNECTION = "connection"  # Config.attributes key env.py runs the migrations on


def make_engine(url: str = DEFAULT_URL, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys enforced, and ``sqlite://`` one shared in-memory database."""
    parsed = _parse(url)
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}} if memory else {}
    try:
        engine = create_engine(parsed, echo=echo, **options)
    except (NoSuchModuleError, ImportError) as exc:
        raise InvalidDatabaseUrl(f"{parsed}: no driver installed ({exc})") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _enforce_foreign_keys)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit (no expire), as request handlers expect."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Migrate the database at ``target`` (a URL or an engine) up to ``revision``."""
    _run(command.upgrade, target, revision)


def downgrade(target: str | Engine, revision: str = "base") -> None:
    """Migrate the database at ``target`` (a URL or an engine) down to ``revision`` (``base``: no tables)."""
    _run(command.downgrade, target, revision)


def alembic_config() -> Config:
    """The Alembic configuration of the package's migrations, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _run(step: Any, target: str | Engine, revision: str) -> None:
    engine = make_engine(target) if isinstance(target, str) else target
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes[CONNECTION] = connection
            step(config, revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise InvalidDatabaseUrl(
            "database URL is not valid (expected sqlite:///PATH, sqlite:// or postgresql+DRIVER://USER@HOST/DB)"
        ) from None  # the text is not echoed: it may hold a password


def _enforce_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
