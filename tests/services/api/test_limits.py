"""Request bodies are limited while they are read: 413 before authentication, separate limits for batch imports,
whether the body announces its size or not."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.api.app import ApiConfig
from services.api.limits import BODY_MAX_BYTES, IMPORT_BODY_MAX_BYTES, BodyLimit, BodyLimits
from services.api.tokens import Role
from tests.services.api.helpers import ADMIN, COCO_BODY, ClientFactory, add_tasks, manual_task, token

SMALL = ApiConfig(body_limits=BodyLimits(default=1000, imports=5000))
IMPORT = "/v1/admin/batches/import?format=cvat&assignee=team"


def _chunks(size: int, chunk: int = 256) -> Iterator[bytes]:
    """A body of ``size`` bytes sent in pieces, without Content-Length (chunked)."""
    for start in range(0, size, chunk):
        yield b" " * min(chunk, size - start)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, ADMIN], ids=["none", "wrong", "admin"])
@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_413_whoever_sends_it(make_client: ClientFactory, headers: dict[str, str],
                                                       announced: bool) -> None:
    client = make_client(config=SMALL)
    for path, limit in (("/v1/tasks/x/1/submit", 1000), ("/v1/admin/tokens", 1000), (IMPORT, 5000)):
        body = b" " * (limit + 1) if announced else _chunks(limit + 1)
        answer = client.post(path, content=body, headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 413, (path, answer.text)
        assert f"at most {limit:,} bytes" in answer.json()["detail"]


def test_a_body_within_the_limit_reaches_the_route(engine: Engine, make_client: ClientFactory) -> None:
    client = make_client(config=SMALL)
    add_tasks(engine, [manual_task(1)])
    ann = token(engine, "ann", Role.ANNOTATOR)
    tid = client.post("/v1/tasks/claim", headers=ann).json()["task_id"]
    answer = client.post(f"/v1/tasks/{tid}/submit", json=COCO_BODY, headers=ann)
    assert answer.status_code == 200, answer.text
    document = b"<annotations>" + b" " * 3000 + b"</annotations>"  # over the default limit, within the imports'
    imported = client.post(IMPORT, content=document, headers={**ADMIN, "Content-Type": "application/xml"})
    assert imported.status_code == 200, imported.text


def test_the_defaults_take_a_submission_and_a_batch_of_the_largest_size() -> None:
    limits = BodyLimits()
    assert (limits.of("/v1/tasks/a/1/submit"), limits.of("/v1/admin/batches/import")) == (
        BODY_MAX_BYTES, IMPORT_BODY_MAX_BYTES) == (1024 * 1024, 32 * 1024 * 1024)


def test_the_limit_counts_what_arrives_not_what_is_announced(client: TestClient) -> None:
    """A Content-Length that understates the body does not let more through."""
    app = BodyLimit(client.app, BodyLimits(default=10, imports=10))
    sent: list[dict[str, object]] = []
    messages = iter([{"type": "http.request", "body": b"12345", "more_body": True},
                     {"type": "http.request", "body": b"678901", "more_body": False}])

    async def receive() -> dict[str, object]:
        return next(messages)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/admin/tokens", "headers": [(b"content-length", b"3")],
             "query_string": b""}
    anyio.run(app, scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
