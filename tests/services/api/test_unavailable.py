"""A database that is locked or down: requests get 503 with Retry-After (never a hang or a bare 500), /readyz says
not ready, /healthz still answers; once the database is back, everything works again. A database error that is
not a wait (a missing table, a full disk) stays a 500: retrying later would not help."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.api.app import ApiConfig, create_app
from services.api.errors import unavailable
from services.api.exceptions import DatabaseBusy
from services.api.tokens import Role
from services.db.engine import Timeouts, make_engine, upgrade
from tests.services.api.helpers import ADMIN_TOKEN, add_tasks, manual_task, token

QUICK = Timeouts(lock_s=0.5, statement_s=5.0, connect_s=2.0)


@pytest.fixture
def quick_client(pg_engine: Engine) -> Iterator[TestClient]:
    """The API on PostgreSQL with short database waits, as ``api serve --db-timeout 0.5`` runs it."""
    engine = make_engine(pg_engine.url.render_as_string(hide_password=False), timeouts=QUICK)
    with TestClient(create_app(engine, config=ApiConfig(wait_s=QUICK.lock_s), admin_token=ADMIN_TOKEN,
                               background=False)) as client:
        yield client
    engine.dispose()


def _unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"


def test_a_locked_postgresql_table_gives_503_and_not_ready_until_released(pg_engine: Engine,
                                                                         quick_client: TestClient) -> None:
    add_tasks(pg_engine, [manual_task(1)])
    ann = token(pg_engine, "ann", Role.ANNOTATOR)
    with pg_engine.connect() as other:
        other.execute(text("LOCK TABLE manual_tasks IN ACCESS EXCLUSIVE MODE"))  # held until the block ends
        _unavailable(quick_client.post("/v1/tasks/claim", headers=ann))
        assert quick_client.get("/readyz").status_code == 503
        assert quick_client.get("/healthz").json() == {"status": "ok"}
        other.rollback()
    assert quick_client.get("/readyz").json() == {"status": "ready"}
    assert quick_client.post("/v1/tasks/claim", headers=ann).json()["task_id"] == "driving-s0-000001/1"


def test_a_postgresql_server_that_refuses_connections_gives_503() -> None:
    engine = make_engine("postgresql+psycopg://shadowqa:shadowqa@127.0.0.1:1/shadowqa", timeouts=QUICK)
    with TestClient(create_app(engine, config=ApiConfig(wait_s=QUICK.lock_s), admin_token=ADMIN_TOKEN,
                               background=False)) as client:
        _unavailable(client.post("/v1/tasks/claim", headers={"Authorization": "Bearer sqa_someone"}))
        _unavailable(client.get("/v1/stats", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}))
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "shadowqa_queue_depth" not in metrics.text
    engine.dispose()


def _sqlite_locked(path: Path) -> sqlite3.Error:
    """The error SQLite gives a writer while another connection holds the write lock."""
    holder, writer = sqlite3.connect(path, isolation_level=None), sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        writer.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        holder.close()
        writer.close()
    raise AssertionError("the write lock was free")


def _sqlite_no_table(_: Path) -> sqlite3.Error:
    try:
        sqlite3.connect(":memory:").execute("SELECT * FROM manual_tasks")
    except sqlite3.OperationalError as exc:
        return exc
    raise AssertionError("no error")


DRIVER_ERRORS: list[tuple[str, Callable[[Path], Exception], type[DBAPIError], bool]] = [  # case, orig, as, 503?
    ("sqlite database is locked", _sqlite_locked, OperationalError, True),
    ("sqlite no such table", _sqlite_no_table, OperationalError, False),
    ("postgresql lock timeout", lambda _: psycopg.errors.LockNotAvailable("lock timeout"), OperationalError, True),
    ("postgresql statement timeout", lambda _: psycopg.errors.QueryCanceled("timeout"), OperationalError, True),
    ("postgresql connection refused", lambda _: psycopg.OperationalError("refused"), OperationalError, True),
    ("postgresql shutting down", lambda _: psycopg.errors.AdminShutdown("bye"), OperationalError, True),
    ("postgresql connection closed", lambda _: psycopg.InterfaceError("the connection is closed"),
     InterfaceError, True),
    ("postgresql disk full", lambda _: psycopg.errors.DiskFull("full"), OperationalError, False),
    ("postgresql NUL in text", lambda _: psycopg.DataError("NUL"), DataError, False),
]


@pytest.mark.parametrize(("case", "orig", "wrapper", "busy"), DRIVER_ERRORS, ids=[c[0] for c in DRIVER_ERRORS])
def test_only_a_database_that_is_busy_or_away_is_a_retry_later(tmp_path: Path, case: str,
                                                                orig: Callable[[Path], Exception],
                                                                wrapper: type[DBAPIError], busy: bool) -> None:
    assert unavailable(wrapper("SELECT 1", None, orig(tmp_path / "db.sqlite3"))) is busy


@pytest.mark.parametrize("exc", [PoolTimeout("pool"), DatabaseBusy("turn")], ids=["pool timeout", "busy"])
def test_a_wait_that_ran_out_is_a_retry_later(exc: Exception) -> None:
    assert unavailable(exc)


def test_a_database_without_the_schema_is_a_500_not_a_retry_later(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}", timeouts=QUICK)
    with TestClient(create_app(engine, admin_token=ADMIN_TOKEN, background=False),
                    raise_server_exceptions=False) as client:
        answer = client.get("/v1/stats", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    engine.dispose()
    assert answer.status_code == 500, answer.text
    assert "Retry-After" not in answer.headers


WAIT_S = 1.0


def _timed_claim(client: TestClient, headers: dict[str, str], delay_s: float) -> tuple[int, float]:
    """A claim sent after ``delay_s``: its status and how long it took."""
    time.sleep(delay_s)
    begin = time.perf_counter()
    status = client.post("/v1/tasks/claim", headers=headers).status_code
    return status, time.perf_counter() - begin


def test_claims_on_a_sqlite_database_locked_by_another_connection_each_get_503_within_the_timeout(
        tmp_path: Path) -> None:
    """One deadline per request: the wait for this process's other writers and SQLite's busy wait together (each
    used to take up to the timeout, so a claim that queued behind another waited about twice as long)."""
    path = tmp_path / "locked.sqlite3"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}", timeouts=Timeouts(lock_s=WAIT_S))
    add_tasks(engine, [manual_task(i) for i in range(3)])
    ann = token(engine, "ann", Role.ANNOTATOR)
    holder = sqlite3.connect(path, isolation_level=None)
    with TestClient(create_app(engine, config=ApiConfig(wait_s=WAIT_S), admin_token=ADMIN_TOKEN,
                               background=False)) as client:
        holder.execute("BEGIN EXCLUSIVE")  # another process's writer holds the database
        try:
            with ThreadPoolExecutor(6) as pool:
                answers = list(pool.map(lambda k: _timed_claim(client, ann, 0.15 * k), range(6)))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert client.post("/v1/tasks/claim", headers=ann).status_code == 200
    engine.dispose()
    assert [status for status, _ in answers] == [503] * 6
    assert max(took for _, took in answers) < 1.6 * WAIT_S, [round(took, 2) for _, took in answers]
