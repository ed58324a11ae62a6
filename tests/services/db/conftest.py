"""A migrated database per test, on SQLite and on PostgreSQL (``database_url``, tests/conftest.py), and sessions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import orjson
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.db.engine import session_factory
from services.loop.messages import Message, decode
from tests.services.loop.messages.samples import sample


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


M = TypeVar("M", bound=Message)


def message(model: type[M], /, **changes: Any) -> M:
    """The sample message of ``model`` (with ``changes``), decoded strictly as a worker reads it off its topic."""
    return decode(model, orjson.dumps(sample(model.KIND, **changes)))
