"""PostgreSQL stopped and started again under the API and the persist worker: a real stop, of a private server.

The test starts a PostgreSQL server of its own (tests/utils/private_postgres.py: the shared cluster serves the
rest of the suite), the persist worker (``shadowqa worker --role persist``) copying ``manual-queue`` into it, and
``shadowqa api serve`` on it with people working the queue (tests/utils/queue_clients.py). While they work, the
server is stopped as a crash stops it (``pg_ctl stop -m immediate``), tasks keep arriving on Kafka, and after
OUTAGE_S it is started again. Meanwhile the API answers 503 with ``Retry-After`` (no 500, no hang) and its
liveness stays up; afterwards nobody is restarted and everything resumes by itself: the API answers people, the
persist worker writes what arrived during the outage, the outbox publishes what was submitted. In the end every
task on ``manual-queue`` is a row once, every task's annotation is stored once and published.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.db.engine import make_engine, upgrade
from services.db.models import ManualAnnotationRow, ManualTaskRow, RouteRow
from services.infra.topic_names import TopicNames
from services.loop.messages import ManualTask, decode, encode
from services.tools.api_processes import api_processes
from services.tools.kafka import KafkaSink
from services.tools.snapshot import read_topic
from services.tools.supervisor import Supervisor
from tests.services.api.helpers import manual_task
from tests.utils.private_postgres import PrivatePostgres, private_postgres
from tests.utils.queue_clients import People, published, relayed, token, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.faults]

WAVE, PEOPLE, DELAY_S = 50, 4, 0.1  # tasks before, during and after the outage; people; seconds per task
STOP_AFTER = 15  # submissions answered when the server is stopped
OUTAGE_S = 8.0  # the server stays down this long
DB_TIMEOUT_S = 2.0  # the API's --db-timeout: a request waits this long for the database, then 503
ANSWER_BOUND_S = 10.0  # guard: a request to the API while the database is down is answered within this
RESUME_BOUND_S = 60.0  # guard: each part writes again within this of the server's return (persist backs off to 30 s;
# measured after 8.2-8.7 s down: outbox 0.3-0.8 s, people answered 1.4-1.8 s, persist 7.4-7.8 s)


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    with private_postgres() as pg:
        upgrade(pg.url)
        yield pg


@pytest.fixture
def database(server: PrivatePostgres) -> Iterator[Engine]:
    engine = make_engine(server.url)
    yield engine
    engine.dispose()


def _queue(bootstrap: str, names: TopicNames, frames: range) -> list[str]:
    """Put one task per frame on ``manual-queue``, as the router does; their ids."""
    tasks: list[ManualTask] = [manual_task(i) for i in frames]
    sink = KafkaSink(bootstrap)
    try:
        for task in tasks:
            sink.send(names.manual_queue, task.frame_id.encode(), encode(task))
        sink.flush()
    finally:
        sink.close()
    return [t.task_id for t in tasks]


def _rows(engine: Engine, model: type[ManualTaskRow] | type[ManualAnnotationRow]) -> int:
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    except Exception:  # the server is not back yet
        return -1


def _since(back: float, times: list[float]) -> float:
    """Seconds from ``back`` to the first of ``times`` after it (infinite: none yet)."""
    return min((t for t in times if t > back), default=float("inf")) - back


def test_the_api_and_the_persist_worker_ride_out_a_database_stop_and_store_everything_once(
    kafka_bootstrap: str, run_topics: TopicNames, server: PrivatePostgres, database: Engine, tmp_path: Path,
) -> None:
    names, logs, admin = run_topics, tmp_path / "logs", secrets.token_urlsafe(32)
    env = {"SHADOWQA_TOPIC_PREFIX": names.prefix, "SHADOWQA_DATABASE_URL": server.url, "SHADOWQA_ADMIN_TOKEN": admin}
    ids = _queue(kafka_bootstrap, names, range(WAVE))
    with Supervisor(names.prefix, logs, env={"SHADOWQA_DATABASE_URL": server.url}) as supervisor, \
            api_processes(1, env, logs, ["--lease-seconds", "120", "--db-timeout", str(DB_TIMEOUT_S)]) as (api,):
        supervisor.start("persist")
        supervisor.wait_ready()
        wait_until("the first tasks persisted", lambda: _rows(database, ManualTaskRow), WAVE)
        probe = token(api.url, admin, "probe")
        with People(api.url, admin, PEOPLE, DELAY_S) as people:
            wait_until("submissions before the stop", lambda: len(people.snapshot().submitted), STOP_AFTER)
            server.stop("immediate")
            down = time.monotonic()
            ids += _queue(kafka_bootstrap, names, range(WAVE, 2 * WAVE))
            answers = _while_down(api.url, probe)
            persist_log = supervisor.workers[0].log
            wait_until("the persist worker retrying", lambda: "database unavailable" in persist_log.read_text(), 1)
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down)))
            server.start()
            back = time.monotonic()
            resumed = _resumed(back, {
                "people answered": lambda: _since(back, people.snapshot().answered) < float("inf"),
                "persist wrote": lambda: _rows(database, ManualTaskRow) >= 2 * WAVE,
                "outbox published": _publishing_again(database)})
            ids += _queue(kafka_bootstrap, names, range(2 * WAVE, 3 * WAVE))
            wait_until("tasks done", lambda: len(people.snapshot().done), len(ids))
            wait_until("annotations published", lambda: published(database), len(ids))
        counts = people.counts
    print(f"server down {back - down:.1f} s; while down: {answers}; seconds after it was back: {resumed}; "
          f"{counts.unavailable} answers 503 to people")

    assert answers["claim"][0] == 503 and answers["claim"][1] is not None  # with Retry-After
    assert answers["claim"][2] < ANSWER_BOUND_S
    assert answers["healthz"][0] == 200 and answers["readyz"][0] == 503
    assert counts.errors == []  # no 500, nothing else unexpected
    assert counts.unavailable > 0 and counts.without_retry_after == 0
    _check_stored_once(kafka_bootstrap, names, database, ids)


def _while_down(url: str, bearer: str) -> dict[str, tuple[int, str | None, float]]:
    """Each probe's (status, Retry-After, seconds to answer) while the database is down."""
    out: dict[str, tuple[int, str | None, float]] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {bearer}"}, timeout=60) as client:
        for name, method, path in (("claim", "POST", "/v1/tasks/claim"), ("healthz", "GET", "/healthz"),
                                   ("readyz", "GET", "/readyz")):
            began = time.monotonic()
            answer = client.request(method, path)
            out[name] = (answer.status_code, answer.headers.get("Retry-After"), round(time.monotonic() - began, 2))
    return out


def _resumed(back: float, parts: dict[str, Callable[[], bool]]) -> dict[str, float]:
    """Seconds from ``back`` until each part's condition first held; fails past RESUME_BOUND_S."""
    seen: dict[str, float] = {}
    while len(seen) < len(parts):
        for name, condition in parts.items():
            if name not in seen and condition():
                seen[name] = round(time.monotonic() - back, 1)
        waited = time.monotonic() - back
        assert waited < RESUME_BOUND_S, f"{set(parts) - set(seen)} not resumed {waited:.0f} s after the server"
        time.sleep(0.1)
    return seen


def _publishing_again(engine: Engine) -> Callable[[], bool]:
    """A condition: the outbox published an annotation since the condition was made (the server is up)."""
    start = published(engine)
    return lambda: published(engine) > start


def _check_stored_once(bootstrap: str, names: TopicNames, engine: Engine, ids: list[str]) -> None:
    """The rows equal the topics: each queued task a row once (and its frame's route), each annotation stored
    once and on ``manual-annotations`` (a copy there, if the outbox sent one twice, is the same record)."""
    queued = Counter(decode(ManualTask, r.value).task_id for r in read_topic(bootstrap, names.manual_queue).records)
    with Session(engine) as session:
        tasks = Counter(session.scalars(select(ManualTaskRow.task_id)).all())
        routes = Counter(session.scalars(select(RouteRow.frame_id)).all())
        stored = Counter(session.scalars(select(ManualAnnotationRow.task_id)).all())
    assert queued == tasks == Counter(ids)
    assert routes == Counter(i.split("/")[0] for i in ids)
    assert stored == Counter(ids)
    relayed(bootstrap, names.manual_annotations, ids)
