"""Request body limits, enforced while the body is read, before any route, dependency or token check runs.

A body that announces more than its limit (``Content-Length``) gets 413 before
a byte of it is read; one that does not (chunked) is counted as it arrives and
gets 413 as soon as the count passes the limit, the rest never read. A body
within its limit is read whole here and handed on, so the routes read it from
memory. Batch imports (Label Studio or CVAT files) have their own, larger
limit; every other route takes the default.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIB = 1024 * 1024
BODY_MAX_BYTES = 1 * MIB  # submissions, skips, tokens, policies, webhooks
IMPORT_BODY_MAX_BYTES = 32 * MIB  # a batch exported by Label Studio or CVAT
IMPORT_PATH = "/v1/admin/batches/import"


@dataclass(frozen=True)
class BodyLimits:
    """Largest request bodies, in bytes: every route's, and batch imports'."""

    default: int = BODY_MAX_BYTES
    imports: int = IMPORT_BODY_MAX_BYTES

    def of(self, path: str) -> int:
        return self.imports if path.rstrip("/").endswith(IMPORT_PATH) else self.default


class BodyLimit:
    """ASGI middleware: 413 for a request body over its route's limit (:class:`BodyLimits`)."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.of(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit, f"Content-Length is {declared:,}", scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(limit, f"more than {limit:,} bytes were sent", scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read already, then whatever the connection says next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _too_large(limit: int, what: str, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"detail": f"request body too large: {what}; this route takes at most {limit:,} bytes"},
                            status_code=413, headers={"Connection": "close"})
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
