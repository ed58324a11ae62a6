"""Migrated databases for tests."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine

from services.db.engine import make_engine, upgrade


def migrated_engine(url: str) -> Iterator[Engine]:
    """An engine on ``url`` after the migrations ran, disposed when the generator closes."""
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
