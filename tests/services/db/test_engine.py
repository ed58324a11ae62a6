"""Engines and sessions: SQLite files (WAL, busy timeout) and memory with foreign keys on; PostgreSQL's pool."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import text

from services.db.engine import (
    MIGRATIONS,
    SQLITE_BUSY_TIMEOUT_MS,
    Timeouts,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    session_factory,
    upgrade,
)
from services.db.exceptions import InvalidDatabaseUrl


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "file"])
def test_sqlite_engines_enforce_foreign_keys(url: str, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'f.db'}" if url == "file" else url)
    with session_factory(engine)() as session:
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_sqlite_files_run_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS == 30_000
    engine.dispose()


def test_postgresql_engines_have_a_bounded_pool_checked_before_use(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    assert (engine.pool.size(), engine.pool._pre_ping) == (5, True)  # type: ignore[attr-defined]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


def test_current_revision_is_none_before_and_head_after_upgrade(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()


def test_an_in_memory_database_is_shared_by_its_sessions() -> None:
    engine = make_engine("sqlite://")
    sessions = session_factory(engine)
    with sessions() as first:
        first.execute(text("CREATE TABLE t (x INTEGER)"))
        first.execute(text("INSERT INTO t VALUES (1)"))
        first.commit()
    with sessions() as second:
        assert second.execute(text("SELECT x FROM t")).scalar() == 1
    engine.dispose()


def test_a_bad_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidDatabaseUrl, match="database URL is not valid") as err:
        make_engine("secret-nowhere")
    assert "secret" not in str(err.value)


def test_postgresql_urls_are_accepted_and_a_missing_driver_is_named_without_the_password() -> None:
    url = "postgresql+psycopg://shadowqa:s3cret@db.example/shadowqa"
    if importlib.util.find_spec("psycopg") is not None:
        assert make_engine(url).dialect.name == "postgresql"  # no connection is made until first use
        return
    hidden = r"postgresql\+psycopg://shadowqa:\*\*\*@db.example/shadowqa: no driver"
    with pytest.raises(InvalidDatabaseUrl, match=hidden) as err:
        make_engine(url)
    assert "s3cret" not in str(err.value)


def test_migrations_are_found_without_an_ini_file() -> None:
    assert alembic_config().get_main_option("script_location") == str(MIGRATIONS)
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert sorted(p.name for p in (MIGRATIONS / "versions").glob("0*.py"))[:4] == [
        "0001_initial_tables.py", "0002_queue_api.py", "0003_snapshot_keys.py", "0004_token_rotation.py"]


def test_timeouts_bound_the_waits_of_a_quick_engine(database_url: str) -> None:
    """The API's engine waits for a lock only so long (SQLite busy timeout, PostgreSQL lock and statement
    timeouts); the default engine keeps waiting 30 s on SQLite and sets no PostgreSQL timeout."""
    quick = make_engine(database_url, timeouts=Timeouts(lock_s=0.25, statement_s=2.0, connect_s=1.0))
    default = make_engine(database_url)
    with quick.connect() as q, default.connect() as d:
        if q.dialect.name == "sqlite":
            assert (q.exec_driver_sql("PRAGMA busy_timeout").scalar(), d.exec_driver_sql("PRAGMA busy_timeout")
                    .scalar()) == (250, 30_000)
        else:
            assert [q.exec_driver_sql(f"SHOW {name}").scalar() for name in ("lock_timeout", "statement_timeout")
                    ] == ["250ms", "2s"]
            assert d.exec_driver_sql("SHOW lock_timeout").scalar() == "0"
    quick.dispose()
    default.dispose()
