"""``shadowqa api serve`` processes under the load that froze them: /healthz answers within 1 s (the issue's bound)
while a 1,000-task import runs and while another process holds the SQLite database's write lock; requests then get
503 with Retry-After, not a hang; a 50 MB body is refused before it is read."""

from __future__ import annotations

import contextlib
import select
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from sqlalchemy import Engine

from services.api.tokens import Role
from services.db.engine import make_engine, upgrade
from services.tools.api_processes import ApiProcess, api_processes
from tests.services.api.helpers import ADMIN, ADMIN_TOKEN, add_tasks, manual_task, token

pytestmark = pytest.mark.slow
HEALTH_BOUND_S = 1.0  # the bound on /healthz while the API works or waits
TASKS = 1000


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@contextlib.contextmanager
def _serve(engine: Engine, tmp_path: Path, *options: str) -> Iterator[ApiProcess]:
    env = {"SHADOWQA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "SHADOWQA_ADMIN_TOKEN": ADMIN_TOKEN}
    with api_processes(1, env, tmp_path / "logs", ["--no-kafka", *options]) as (api,):
        yield api


def _health_while(running: Callable[[], bool], url: str) -> list[float]:
    """/healthz latencies, probed every 50 ms until ``running()`` is false."""
    latencies = []
    with httpx.Client(timeout=60) as http:
        while running():
            begin = time.perf_counter()
            assert http.get(f"{url}/healthz").json() == {"status": "ok"}
            latencies.append(time.perf_counter() - begin)
            time.sleep(0.05)
    return latencies


def _ls_batch(url: str, size: int) -> bytes:
    """The tasks exported to 'team', each annotated with one box in the tool."""
    exported = httpx.post(f"{url}/v1/admin/batches/export", json={"format": "label-studio", "assignee": "team",
                                                                   "size": size}, headers=ADMIN, timeout=120)
    tasks: list[dict[str, Any]] = exported.json()["tasks"]
    box = {"type": "rectanglelabels", "from_name": "label", "to_name": "image", "original_width": 320,
           "original_height": 192, "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0,
                                             "rectanglelabels": ["car"]}}
    for task in tasks:
        task["annotations"] = [{"result": [box]}]
    return orjson.dumps(tasks)


@pytest.mark.faults
def test_health_answers_while_a_thousand_task_import_runs(sqlite_engine: Engine, tmp_path: Path) -> None:
    add_tasks(sqlite_engine, [manual_task(i) for i in range(TASKS)])
    with _serve(sqlite_engine, tmp_path) as api:
        batch = _ls_batch(api.url, TASKS)
        with ThreadPoolExecutor(1) as pool:
            imported = pool.submit(httpx.post, f"{api.url}/v1/admin/batches/import?format=label-studio&assignee=team",
                                   content=batch, headers={**ADMIN, "Content-Type": "application/json"}, timeout=600)
            latencies = _health_while(lambda: not imported.done(), api.url)
        result = imported.result()
    assert result.status_code == 200, result.text
    assert len(result.json()["submitted"]) == TASKS and result.json()["rejected"] == {}
    assert len(latencies) >= 5, "the probes overlapped the import"
    assert max(latencies) < HEALTH_BOUND_S, f"/healthz took up to {max(latencies):.2f} s during the import"


def test_a_database_write_locked_by_another_process_gives_503_and_health_still_answers(
        sqlite_engine: Engine, tmp_path: Path) -> None:
    add_tasks(sqlite_engine, [manual_task(i) for i in range(3)])
    ann = token(sqlite_engine, "ann", Role.ANNOTATOR)
    with _serve(sqlite_engine, tmp_path, "--db-timeout", "1") as api:
        batch = _ls_batch(api.url, 1)
        holder = sqlite3.connect(str(sqlite_engine.url.database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another process's writer holds the database
        try:
            with ThreadPoolExecutor(8) as pool:
                calls: list[Future[httpx.Response]] = [
                    pool.submit(httpx.post, f"{api.url}/v1/tasks/claim", headers=ann, timeout=60) for _ in range(6)]
                calls.append(pool.submit(httpx.post, f"{api.url}/v1/admin/batches/import?format=label-studio"
                                         "&assignee=team", content=batch, timeout=60,
                                         headers={**ADMIN, "Content-Type": "application/json"}))
                latencies = _health_while(lambda: not all(c.done() for c in calls), api.url)
            answers = [c.result() for c in calls]
            ready = httpx.get(f"{api.url}/readyz", timeout=30)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert [(a.status_code, a.headers.get("Retry-After")) for a in answers] == [(503, "1")] * len(calls)
        assert ready.status_code == 503
        assert max(latencies) < HEALTH_BOUND_S, f"/healthz took up to {max(latencies):.2f} s while locked"
        assert httpx.get(f"{api.url}/readyz", timeout=30).json() == {"status": "ready"}
        assert httpx.post(f"{api.url}/v1/tasks/claim", headers=ann, timeout=30).status_code == 200


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def _send_until_answered(url: str, head: bytes, body: Iterator[bytes]) -> bytes:
    """Send a request piece by piece until the server answers (or the body ends); the answer's first bytes."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=20) as sock:
        sock.sendall(head)
        for piece in body:
            if select.select([sock], [], [], 0)[0]:
                break
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(piece)
        return sock.recv(200)


def test_a_fifty_megabyte_body_is_refused_before_it_is_read(sqlite_engine: Engine, tmp_path: Path) -> None:
    size = 50 * 1024 * 1024
    with _serve(sqlite_engine, tmp_path) as api:
        before = _rss_kb(api.pid)
        path = "/v1/tasks/driving-s0-000001/1/submit"
        announced = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {size}\r\n\r\n").encode()
        assert _send_until_answered(api.url, announced, iter([])).startswith(b"HTTP/1.1 413"), (
            "refused on its Content-Length, before a byte of it")
        chunked = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n").encode()
        chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * (64 * 1024))
        assert _send_until_answered(api.url, chunked, iter([chunk] * 800)).startswith(b"HTTP/1.1 413")
        grown = _rss_kb(api.pid) - before
    assert grown < 20 * 1024, f"the server grew by {grown / 1024:.0f} MB for bodies it refused"

