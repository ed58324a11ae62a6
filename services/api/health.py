"""Readiness: can the database serve a claim or a submission right now, within a short wait?

Reading is not enough: in WAL mode SQLite still reads while another process
holds its write lock, and PostgreSQL still answers ``SELECT 1`` while a table
the queue writes is locked. So the probe takes what a write would take, for at
most ``wait_s``, and gives it back: SQLite's write lock (``BEGIN IMMEDIATE``,
rolled back), or on PostgreSQL the queue tables' ``ROW EXCLUSIVE`` lock (what an
UPDATE takes; rolled back).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

QUEUE_TABLES = "manual_tasks, manual_annotations, task_leases"


def database_problem(engine: Engine, wait_s: float) -> str | None:
    """None if the database could take a write now; else what kept it from it (the error's class name)."""
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                _sqlite_write_lock(connection, wait_s)
            elif connection.dialect.name == "postgresql":
                with connection.begin() as transaction:
                    connection.execute(text(f"SET LOCAL lock_timeout = {max(1, round(wait_s * 1000))}"))
                    connection.execute(text(f"LOCK TABLE {QUEUE_TABLES} IN ROW EXCLUSIVE MODE"))
                    transaction.rollback()
            else:
                connection.execute(text("SELECT 1"))
    except DBAPIError as exc:  # the driver's own error says most: LockNotAvailable, OperationalError, ...
        return type(exc.orig).__name__
    except SQLAlchemyError as exc:
        return type(exc).__name__
    return None


def _sqlite_write_lock(connection: Connection, wait_s: float) -> None:
    (busy_ms,) = connection.exec_driver_sql("PRAGMA busy_timeout").one()
    connection.exec_driver_sql(f"PRAGMA busy_timeout={max(1, round(wait_s * 1000))}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        connection.rollback()
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_ms)}")
