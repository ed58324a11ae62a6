"""How the API answers what went wrong: 422 in FastAPI's own form, and 503 with ``Retry-After`` for a database
that is locked, down or out of connections (never a hang, never a bare 500).

FastAPI's 422 echoes the refused input, which may be what JSON cannot carry
(NaN, Infinity, a lone surrogate): the errors are made JSON-safe first
(non-finite numbers as text, lone surrogates as their ``\\udfff`` escape),
where the default handler answered 500.

The database engine of ``shadowqa api serve`` waits for a lock, a statement and
a connection only so long (services/db/engine.py ``Timeouts``); what runs out
of time surfaces here as a SQLAlchemy ``OperationalError`` (SQLite "database is
locked", PostgreSQL lock or statement timeout, connection refused), a pool
``TimeoutError`` or :class:`DatabaseBusy`, and is answered 503.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.api.exceptions import DatabaseBusy

log = logging.getLogger(__name__)
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def install(app: FastAPI, retry_after_s: float) -> None:
    """Answer invalid requests with a JSON-safe 422, and the database's unavailability with 503 and
    ``Retry-After: retry_after_s`` (whole seconds)."""
    retry_after = str(max(1, math.ceil(retry_after_s)))

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": json_safe(jsonable_encoder(exc.errors()))}, status_code=422)

    app.add_exception_handler(RequestValidationError, validation)

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return JSONResponse({"detail": "the database is unavailable (locked, down or busy); retry later"},
                            status_code=503, headers={"Retry-After": retry_after})

    for kind in (*UNAVAILABLE, DatabaseBusy):
        app.add_exception_handler(kind, unavailable)


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
