"""How the API answers what went wrong: 422 in FastAPI's own form, and 503 with ``Retry-After`` for a database
that is locked, down or out of connections (never a hang, never a bare 500).

FastAPI's 422 echoes the refused input, which may be what JSON cannot carry
(NaN, Infinity, a lone surrogate): the errors are made JSON-safe first
(non-finite numbers as text, lone surrogates as their ``\\udfff`` escape),
where the default handler answered 500.

The database engine of ``shadowqa api serve`` waits for a lock, a statement and
a connection only so long (services/db/engine.py ``Timeouts``); what runs out
of time surfaces here as a pool ``TimeoutError``, :class:`DatabaseBusy` or a
driver error that means the database is busy or away (:func:`unavailable`:
SQLite "database is locked"; PostgreSQL lock or statement timeout, deadlock,
refused or lost connection, server shutting down), and is answered 503. Any
other database error (SQLite "no such table", a disk full) is a fault of this
deployment, not a reason to retry: it stays a 500 with its traceback logged.
So does a ``DataError``: every value a client sends is checked at the door
(422) before it reaches the database, so one from the database is a bug.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.api.exceptions import DatabaseBusy

log = logging.getLogger(__name__)
SQLITE_BUSY_OR_LOCKED = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (primary result codes)
POSTGRES_BUSY_OR_AWAY = frozenset({
    "55P03", "57014", "40P01", "40001",  # lock_not_available, query_canceled (timeouts), deadlock, serialization
    "57P01", "57P02", "57P03", "53300",  # admin/crash shutdown, cannot connect now, too many connections
})


def install(app: FastAPI, retry_after_s: float) -> None:
    """Answer invalid requests with a JSON-safe 422, and the database's unavailability with 503 and
    ``Retry-After: retry_after_s`` (whole seconds)."""
    retry_after = str(max(1, math.ceil(retry_after_s)))

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": json_safe(jsonable_encoder(exc.errors()))}, status_code=422)

    app.add_exception_handler(RequestValidationError, validation)

    async def database(_: Request, exc: Exception) -> JSONResponse:
        if not unavailable(exc):
            raise exc  # a fault, not a wait: the server error handler answers 500 and logs the traceback
        log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return JSONResponse({"detail": "the database is unavailable (locked, down or busy); retry later"},
                            status_code=503, headers={"Retry-After": retry_after})

    for kind in (OperationalError, InterfaceError, PoolTimeout, DatabaseBusy):
        app.add_exception_handler(kind, database)


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is busy or away (worth a retry later), rather than a fault."""
    if isinstance(exc, PoolTimeout | DatabaseBusy):
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):  # only a lock another connection holds is a wait
        return (getattr(orig, "sqlite_errorcode", 0) & 0xFF) in SQLITE_BUSY_OR_LOCKED
    state = getattr(orig, "sqlstate", None)  # PostgreSQL's SQLSTATE; None: no answer from a server at all
    return state is None or state in POSTGRES_BUSY_OR_AWAY or str(state).startswith("08")  # 08: connection


def json_safe(value: Any) -> Any:
    """``value`` (JSON-like) with what JSON cannot carry written as text: NaN and infinities, lone surrogates."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    return value


def invalid(loc: list[str | int], msg: str) -> HTTPException:
    """A 422 in FastAPI's own form (``detail``: errors with ``loc``), the form the OpenAPI document promises."""
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": "value_error"}])
