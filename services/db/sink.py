"""Idempotent writes of the pipeline's messages: what the persist worker puts in the database.

Topics deliver at least once, so a replayed record must change nothing. Every
table written here has a natural key — ``manual_tasks.task_id``, ``comparisons
(frame_id, kind)``, ``policies.version``, ``routes.frame_id``, a statistics
snapshot's ``(stratum, model_version, n, time)``, a recommendation's ``(stratum,
policy_version, time)`` — and takes ``INSERT … ON CONFLICT DO NOTHING``
(PostgreSQL and SQLite alike), so concurrent writers cannot double a row either.
A task row that exists is never touched: after insertion the API owns its lease
state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.db import mappers
from services.db.models import (
    Base,
    ComparisonRow,
    ManualTaskRow,
    PolicyRow,
    RecommendationRow,
    RouteRow,
    StatsRow,
)
from services.loop.messages import (
    AgreementStats,
    ComparisonMessage,
    Delivery,
    ManualTask,
    Message,
    PolicyMessage,
    RecommendationMessage,
)

UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "manual_tasks": ("task_id",), "comparisons": ("frame_id", "kind"), "policies": ("version",),
    "routes": ("frame_id",), "agreement_stats": ("stratum", "model_version", "n", "time"),
    "recommendations": ("stratum", "policy_version", "time"),
}


@dataclass
class Batch:
    """Decoded messages of one batch of records, by kind, plus the model versions seen for frames."""

    tasks: list[ManualTask] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    comparisons: list[ComparisonMessage] = field(default_factory=list)
    stats: list[AgreementStats] = field(default_factory=list)
    recommendations: list[RecommendationMessage] = field(default_factory=list)
    policies: list[PolicyMessage] = field(default_factory=list)
    model_versions: dict[str, str] = field(default_factory=dict)  # frame id -> model version that annotated it

    def add(self, message: Message) -> None:
        """File ``message`` under its kind; a machine comparison also tells its frame's model version."""
        if isinstance(message, ComparisonMessage) and message.kind == "machine":
            self.model_versions[message.frame_id] = message.model_version
        getattr(self, _FIELD_OF[type(message)]).append(message)

    def __len__(self) -> int:
        return (len(self.tasks) + len(self.deliveries) + len(self.comparisons) + len(self.stats)
                + len(self.recommendations) + len(self.policies))


_FIELD_OF: dict[type[Message], str] = {
    ManualTask: "tasks", Delivery: "deliveries", ComparisonMessage: "comparisons", AgreementStats: "stats",
    RecommendationMessage: "recommendations", PolicyMessage: "policies",
}
KINDS = tuple(model.KIND for model in _FIELD_OF)  # the topics whose messages are written (without prefix)


def transient(exc: BaseException) -> bool:
    """Whether a failed write may succeed if retried: the server is down or restarting, the connection broke,
    the pool is exhausted, or (SQLite) another process holds the lock — as opposed to a row the database refuses."""
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout)


def write(connection: Connection, batch: Batch, *, hash_salt: str) -> dict[str, int]:
    """Insert what ``batch`` holds that the database does not; rows inserted per table (replays insert none).

    The routing ledger gets one row per frame, from its delivery or its first task; a task's route
    takes its model version from ``batch.model_versions`` and, if unknown yet, gets it when a later
    batch knows it (tasks are blind: no model version on them).
    """
    ledger = _routes(batch, hash_salt)
    per_frame = [(ManualTaskRow, [mappers.task_fields(t) for t in batch.tasks]),
                 (ComparisonRow, [mappers.comparison_fields(c) for c in batch.comparisons])]
    rows: list[tuple[type[Base], list[dict[str, Any]]]] = [
        *((model, [mappers.insert_values(model, f) for f in fields]) for model, fields in per_frame),
        (StatsRow, [mappers.values(mappers.stats_row(s)) for s in batch.stats]),
        (RecommendationRow, [mappers.values(mappers.recommendation_row(r)) for r in batch.recommendations]),
        (PolicyRow, [mappers.values(mappers.policy_row(p)) for p in batch.policies]),
        (RouteRow, ledger),
    ]
    inserted = {model.__tablename__: insert_values(connection, model, new) for model, new in rows if new}
    fill_model_versions(connection, batch.model_versions)
    return {table: n for table, n in inserted.items() if n}


def insert_values(connection: Connection, model: type[Base], rows: Iterable[dict[str, Any]]) -> int:
    """Insert those of ``rows`` (column values, :func:`mappers.values`) whose key is not in ``model``'s table yet
    (nor earlier in ``rows``); how many.

    A plain executemany (no ``RETURNING``: the rows inserted are the summed row count): with ``RETURNING``,
    SQLAlchemy sends one multi-row ``INSERT`` whose text differs with the row count, which psycopg parses
    anew each time: 27 % of the persist worker's CPU in the pipeline benchmark's profile."""
    table: Table = model.__table__  # type: ignore[assignment]
    key = UNIQUE_KEYS[table.name]
    params = list(_first_per_key(rows, key))
    statement = _insert(connection)(table).on_conflict_do_nothing(index_elements=list(key))
    return int(connection.execute(statement.execution_options(preserve_rowcount=True), params).rowcount)


def fill_model_versions(connection: Connection, model_versions: dict[str, str]) -> None:
    """Set the model version of ledger rows of these frames that have none yet (manual routes written earlier)."""
    if not model_versions:
        return
    routes: Table = RouteRow.__table__  # type: ignore[assignment]
    statement = (update(routes).where(and_(routes.c.frame_id == bindparam("frame"), routes.c.model_version.is_(None)))
                 .values(model_version=bindparam("version")))
    connection.execute(statement, [{"frame": f, "version": v} for f, v in model_versions.items()])


def writer(engine: Engine, *, hash_salt: str) -> Callable[[Batch], dict[str, int]]:
    """``write`` in one transaction on ``engine``: the whole batch is written, or none of it."""
    def step(batch: Batch) -> dict[str, int]:
        with engine.begin() as connection:
            return write(connection, batch, hash_salt=hash_salt)
    return step


def _routes(batch: Batch, hash_salt: str) -> list[dict[str, Any]]:
    decisions: list[ManualTask | Delivery] = [*batch.deliveries, *batch.tasks]
    return [mappers.insert_values(RouteRow, mappers.route_fields(
                d, hash_salt=hash_salt,
                model_version=None if isinstance(d, Delivery) else batch.model_versions.get(d.frame_id)))
            for d in decisions]


def _first_per_key(params: Iterable[dict[str, Any]], key: tuple[str, ...]) -> Iterable[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    for p in params:
        k = tuple(p[name] for name in key)
        if k not in seen:
            seen.add(k)
            yield p


def _insert(connection: Connection) -> Any:
    """The dialect's ``insert`` (the one with ``on_conflict_do_nothing``)."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
