"""A migrated SQLite database file per test, and sessions on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.db.engine import make_engine, session_factory, upgrade
from services.messages import Message, decode
from tests.services.messages.samples import sample


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shadowqa.sqlite3'}"


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


M = TypeVar("M", bound=Message)


def message(model: type[M], /, **changes: Any) -> M:
    """The sample message of ``model`` (with ``changes``), decoded strictly as a worker reads it off its topic."""
    return decode(model, orjson.dumps(sample(model.KIND, **changes)))
