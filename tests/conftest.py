"""Databases for tests: ``database_url`` runs a test on SQLite and on PostgreSQL, ``postgres_url`` on PostgreSQL,
``engine`` is a migrated engine on ``database_url``.

Each PostgreSQL case gets a fresh database (``CREATE DATABASE``) on the server
``SHADOWQA_TEST_DATABASE_URL`` names (``make test`` starts the project's cluster
and sets it), dropped afterwards. Without that server the cases fail, never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tests.utils.db import migrated_engine

TEST_DATABASE_URL = "SHADOWQA_TEST_DATABASE_URL"

pytest_plugins = ["tests.utils.sigterm"]  # SIGTERM unwinds the tests (their worker processes stop) as Ctrl-C does


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    """An autocommit engine on the server's own database (to create and drop test databases); fails without one."""
    url = os.environ.get(TEST_DATABASE_URL)
    if not url:
        pytest.fail(f"{TEST_DATABASE_URL} is not set: run the suite with `make test`, which starts the project's "
                    "PostgreSQL and sets it", pytrace=False)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        pytest.fail(f"no PostgreSQL answers at {make_url(url)!r} ({type(exc.orig or exc).__name__}): run the suite "
                    "with `make test`, or start the server first with `shadowqa infra postgres up`", pytrace=False)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_server: Engine) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test (its connections terminated first)."""
    name = f"shadowqa_test_{uuid.uuid4().hex[:16]}"
    with postgres_server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_server.url.set(database=name).render_as_string(hide_password=False)
    with postgres_server.connect() as connection:
        # our own leftover sessions only: an autovacuum worker on the new database runs as the superuser (which we
        # may not terminate), and DROP DATABASE stops it by itself
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                                "AND pid <> pg_backend_pid() AND usename = current_user"), {"name": name})
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each backend: a new SQLite file, or a new PostgreSQL database (``postgres_url``)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shadowqa.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database, on SQLite and on PostgreSQL."""
    yield from migrated_engine(database_url)
