"""Migrated databases (SQLite and PostgreSQL), the API under FastAPI's TestClient and under a real uvicorn."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.api.app import ApiConfig, create_app
from services.db.engine import make_engine, upgrade
from tests.services.api.helpers import ADMIN_TOKEN, ClientFactory


def _migrated(url: str) -> Iterator[Engine]:
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database, on SQLite and on PostgreSQL."""
    yield from _migrated(database_url)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database."""
    yield from _migrated(postgres_url)



@pytest.fixture
def make_client(engine: Engine) -> Iterator[ClientFactory]:
    """``make_client(**create_app options)``: a started TestClient of the API on ``engine`` (no background threads
    unless ``background=True``); the bootstrap admin token is ``helpers.ADMIN``."""
    clients: list[TestClient] = []

    def make(**options: Any) -> TestClient:
        options.setdefault("background", False)
        client = TestClient(create_app(engine, admin_token=ADMIN_TOKEN, **options))
        client.__enter__()  # runs the lifespan (background threads when asked)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()


@pytest.fixture
def live_server(pg_engine: Engine) -> Iterator[Callable[..., str]]:
    """``live_server(ApiConfig)``: the API served by uvicorn in a thread on 127.0.0.1 (a free port), background
    threads running (the lease sweeper); its base URL. Stopped after the test."""
    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(config: ApiConfig) -> str:
        app = create_app(pg_engine, config=config, admin_token=ADMIN_TOKEN, background=True)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                               access_log=False, lifespan="on"))
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        started.append((server, thread))
        for _ in range(400):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.025)
        if not server.started:
            pytest.fail("uvicorn did not start", pytrace=False)
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield serve
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=30)
