"""A database that is locked or down: requests get 503 with Retry-After (never a hang or a bare 500), /readyz says
not ready, /healthz still answers; once the database is back, everything works again."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from services.api.app import ApiConfig, create_app
from services.api.tokens import Role
from services.db.engine import Timeouts, make_engine
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
