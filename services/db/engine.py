"""Engines, sessions and schema migrations, from a database URL given by the caller.

``sqlite:///path.db`` (a file), ``sqlite://`` (in memory, one shared
connection) and ``postgresql+<driver>://...`` URLs are accepted. Several
processes write one database (the persist worker, the API), so SQLite files run
in WAL mode (readers never block the writer) with a busy timeout (a writer
waits for the other's lock instead of failing at once), and PostgreSQL gets a
bounded pool whose connections are checked before use. A caller that must
answer quickly (the API) passes :class:`Timeouts`: short lock, statement and
connection waits, so a locked or absent database fails fast instead of
hanging. Migrations run
programmatically (no ``alembic.ini``), from the package's ``migrations/``
folder, so they work from an installed package too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from services.db.exceptions import InvalidDatabaseUrl

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_URL = "sqlite:///shadowqa.sqlite3"
CONNECTION = "connection"  # Config.attributes key env.py runs the migrations on
MIGRATION_LOCK = 0x5348_4144_4F57  # PostgreSQL advisory lock key of schema migrations ("SHADOW")
SQLITE_BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another process's write lock
POSTGRES_POOL: dict[str, Any] = {
    "pool_size": 5, "max_overflow": 5,  # per process: a worker writes in one thread, the API's handlers in a few
    "pool_timeout": 30, "pool_recycle": 1800, "pool_pre_ping": True,  # a restarted server costs one retry, not errors
    "connect_args": {"connect_timeout": 10},
}


@dataclass(frozen=True)
class Timeouts:
    """How long one database step may wait, for callers that must answer quickly rather than wait for ever."""

    lock_s: float = 5.0  # for a lock: SQLite's busy timeout, PostgreSQL's lock_timeout
    statement_s: float = 30.0  # for one statement (PostgreSQL statement_timeout)
    connect_s: float = 5.0  # for a connection: PostgreSQL connect_timeout and the pool's wait


def make_engine(url: str = DEFAULT_URL, *, echo: bool = False, timeouts: Timeouts | None = None) -> Engine:
    """An engine for ``url``: SQLite with foreign keys enforced (files in WAL mode with a busy timeout,
    ``sqlite://`` one shared in-memory database), PostgreSQL with :data:`POSTGRES_POOL`; ``timeouts`` shortens
    the waits (default: a writer waits 30 s for a lock, statements are not limited)."""
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    memory = backend == "sqlite" and parsed.database in (None, "", ":memory:")
    busy_ms = SQLITE_BUSY_TIMEOUT_MS if timeouts is None else max(1, round(timeouts.lock_s * 1000))
    options: dict[str, Any] = {"pool_pre_ping": True}
    if memory:
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    elif backend == "sqlite":
        options = {"connect_args": {"timeout": busy_ms / 1000}}
    elif backend == "postgresql":
        options = _postgres_options(timeouts)
    try:
        engine = create_engine(parsed, echo=echo, **options)
    except (NoSuchModuleError, ImportError) as exc:
        raise InvalidDatabaseUrl(f"{parsed}: no driver installed ({exc})") from None
    if backend == "sqlite":
        event.listen(engine, "connect", _enforce_foreign_keys if memory
                     else functools.partial(_sqlite_file_pragmas, busy_ms=busy_ms))
    return engine


def _postgres_options(timeouts: Timeouts | None) -> dict[str, Any]:
    options = dict(POSTGRES_POOL)
    if timeouts is not None:
        lock_ms, statement_ms = round(timeouts.lock_s * 1000), round(timeouts.statement_s * 1000)
        options["pool_timeout"] = timeouts.connect_s
        options["connect_args"] = {"connect_timeout": max(1, round(timeouts.connect_s)),
                                   "options": f"-c lock_timeout={lock_ms} -c statement_timeout={statement_ms}"}
    return options


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit (no expire), as request handlers expect."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Migrate the database at ``target`` (a URL or an engine) up to ``revision``."""
    _run(command.upgrade, target, revision)


def downgrade(target: str | Engine, revision: str = "base") -> None:
    """Migrate the database at ``target`` (a URL or an engine) down to ``revision`` (``base``: no tables)."""
    _run(command.downgrade, target, revision)


def current_revision(target: str | Engine) -> str | None:
    """The revision the database at ``target`` is migrated to (None: never migrated)."""
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.connect() as connection:
            revision: str | None = MigrationContext.configure(connection).get_current_revision()
            return revision
    finally:
        if isinstance(target, str):
            engine.dispose()


def head_revision() -> str:
    """The newest revision of the package's migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


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
            _one_migration_at_a_time(connection)
            config.attributes[CONNECTION] = connection
            step(config, revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def _one_migration_at_a_time(connection: Connection) -> None:
    """Hold the database's migration lock until the transaction ends: the persist worker and the API both
    migrate at start, and two concurrent upgrades of one database otherwise fail (measured: 2 of 4 tries on
    PostgreSQL, 3 of 4 on SQLite, three processes at once). The second waits, then finds the schema at head.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the write lock, taken at once (``BEGIN IMMEDIATE``;
    the driver would otherwise run the DDL outside any transaction), waited for up to the busy timeout.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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


def _sqlite_file_pragmas(dbapi_connection: Any, record: Any, *, busy_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """Foreign keys, WAL (persistent in the file; set on every connection, it is a no-op once set), busy timeout."""
    _enforce_foreign_keys(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()
