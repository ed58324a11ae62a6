"""Migrated databases (SQLite and PostgreSQL), the API under FastAPI's TestClient and as `shadowqa api serve`
processes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.api.app import create_app
from services.tools.api_processes import api_processes
from tests.services.api.helpers import ADMIN_TOKEN, ClientFactory
from tests.utils.db import migrated_engine


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database."""
    yield from migrated_engine(postgres_url)



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
def api_replicas(postgres_url: str, pg_engine: Engine, tmp_path: Path) -> Iterator[Callable[..., list[str]]]:
    """``api_replicas(n, *serve options)``: ``n`` processes of ``shadowqa api serve --no-kafka`` on the migrated
    PostgreSQL database of ``pg_engine`` (as replicas behind a load balancer would run), each on a free port it
    names in its ready file; their base URLs. Stopped after the test."""
    env = {"SHADOWQA_DATABASE_URL": postgres_url, "SHADOWQA_ADMIN_TOKEN": ADMIN_TOKEN}
    with contextlib.ExitStack() as stack:
        def serve(n: int, *options: str) -> list[str]:
            return [api.url for api in stack.enter_context(
                api_processes(n, env, tmp_path, ["--no-kafka", *options], name="api-replica"))]

        yield serve
