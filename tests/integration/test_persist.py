"""The persist worker on the real broker and the real PostgreSQL: rows once, replays change nothing, leases survive,
and records that arrive while the database is down are written when it is back (their offsets never committed before).

The worker runs as a deployment runs it (``shadowqa worker --role persist``, one process, via the Supervisor)
on a fresh topic set and a fresh database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, create_engine, func, select, text, update
from sqlalchemy.orm import Session

from services.db.models import ComparisonRow, ManualTaskRow, PolicyRow, RecommendationRow, RouteRow, StatsRow
from services.infra.topic_names import TopicNames
from services.loop.messages import DeadLetter, decode
from services.tools.kafka import KafkaSink
from services.tools.snapshot import read_topic
from services.tools.supervisor import Supervisor
from streams.agents.persist import topics as persist_topics
from streams.app import app_id
from streams.lag import LagReporter
from tests.services.infra.fakes import free_port
from tests.services.loop.messages.samples import T, sample
from tests.streams.scrape import scrape

Record = tuple[str, str, dict[str, Any] | bytes]  # (topic base name, key, document or raw bytes)
WAIT_S = 90.0  # generous: the machine is shared; a test fails only if the condition never holds
TABLES = (ManualTaskRow, RouteRow, ComparisonRow, StatsRow, RecommendationRow, PolicyRow)


@pytest.fixture
def database(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def worker(topics: TopicNames, postgres_url: str, tmp_path: Path) -> Iterator[Supervisor]:
    """A Supervisor for the persist worker of ``topics`` writing to ``postgres_url`` (started by the test),
    serving its metrics on a free port (``metrics_ports["persist"]``)."""
    with Supervisor(topics.prefix, tmp_path / "logs", env={"SHADOWQA_DATABASE_URL": postgres_url},
                    metrics_ports={"persist": free_port()}) as supervisor:
        yield supervisor


def _frames(first: int, n: int, *, copies: int = 1) -> list[Record]:
    """Even frames go to people (``copies`` tasks each), odd ones ship; every frame has its automation result."""
    records: list[Record] = []
    for i in range(first, first + n):
        frame = f"f-{i:04d}"
        records.append(("automation-results", frame, sample("automation-results", frame_id=frame, model_version="m@7")))
        if i % 2:
            records.append(("deliveries", frame, sample("deliveries", frame_id=frame, model_version="m@7")))
            continue
        for copy in range(1, copies + 1):
            records.append(("manual-queue", frame, sample("manual-queue", frame_id=frame, task_id=f"{frame}/{copy}",
                                                          copy=copy, copies=copies)))
    return records


def _decisions() -> list[Record]:
    return [
        ("comparisons", "f-0000", sample("comparisons", frame_id="f-0000", model_version="m@7")),
        ("comparisons", "f-0000", sample("comparisons", frame_id="f-0000", kind="consensus")),
        ("agreement-stats", "all", sample("agreement-stats")),
        ("agreement-stats", "all", sample("agreement-stats", n=121, time=T + 1)),
        ("recommendations", "all", sample("recommendations")),
        ("policies", "policy", sample("policies", version=1)),
        ("policies", "policy", sample("policies", version=2)),
    ]


def _produce(bootstrap: str, names: TopicNames, records: list[Record]) -> None:
    sink = KafkaSink(bootstrap)
    try:
        for base, key, doc in records:
            sink.send(names.name(base), key.encode(), doc if isinstance(doc, bytes) else orjson.dumps(doc))
        sink.flush()
    finally:
        sink.close()


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0 for m in TABLES}


def _wait(what: str, condition: Callable[[], bool], supervisor: Supervisor) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        supervisor.check()
        if time.monotonic() > deadline:
            logs = "\n".join(w.log.read_text(errors="replace")[-3000:] for w in supervisor.workers)
            pytest.fail(f"{what}: not after {WAIT_S:.0f} s; worker log ends:\n{logs}")
        time.sleep(0.5)


def _lag(bootstrap: str, names: TopicNames) -> dict[str, int]:
    """The persist group's lag per topic (base name), measured as the worker's own reporter does."""
    reporter = LagReporter(bootstrap, app_id(names, "persist"), persist_topics(names))
    try:
        return {topic.removeprefix(names.prefix): n for topic, n in reporter.measure().items()}
    finally:
        reporter.stop()


def test_topics_become_rows_once_and_a_replay_changes_nothing(
    kafka_bootstrap: str, topics: TopicNames, database: Engine, worker: Supervisor,
) -> None:
    records = _frames(0, 40, copies=2) + _decisions() + [("manual-queue", "bad", b'{"task_id": 1}')]
    _produce(kafka_bootstrap, topics, records)
    worker.start("persist")
    worker.wait_ready()
    expected = {"manual_tasks": 40, "routes": 40, "comparisons": 2, "agreement_stats": 2, "recommendations": 1,
                "policies": 2}
    _wait("every record persisted", lambda: _counts(database) == expected, worker)
    with Session(database) as session:
        routes = {r.frame_id: (r.route, r.copies, r.model_version) for r in session.scalars(select(RouteRow))}
        leased = session.execute(update(ManualTaskRow).where(ManualTaskRow.task_id == "f-0000/1").values(
            state="leased", lease_owner="ann-1", lease_deadline=T + 600, attempts=1))
        session.commit()
    assert leased.rowcount == 1
    assert routes == {f"f-{i:04d}": ("ship", 0, "m@7") if i % 2 else ("manual", 2, "m@7") for i in range(40)}
    (letter,) = [decode(DeadLetter, r.value) for r in read_topic(kafka_bootstrap, topics.dead_letters).records]
    assert (letter.stage, letter.source_topic) == ("persist", topics.manual_queue)

    _produce(kafka_bootstrap, topics, records)  # the same records again, as a replay after a crash delivers them
    _wait("the replay consumed", lambda: set(_lag(kafka_bootstrap, topics).values()) == {0}, worker)
    assert _counts(database) == expected
    port = worker.metrics_ports["persist"]
    assert scrape(port, "shadowqa_rows_persisted_total") == {(("table", t),): n for t, n in expected.items()}
    _wait("the worker's own lag served for its topics", lambda: {dict(labels)["topic"] for labels in scrape(
        port, "shadowqa_consumer_lag")} == set(persist_topics(topics)), worker)
    with Session(database) as session:
        row = session.scalars(select(ManualTaskRow).where(ManualTaskRow.task_id == "f-0000/1")).one()
        assert (row.state, row.lease_owner, row.lease_deadline, row.attempts) == ("leased", "ann-1", T + 600, 1)


@pytest.mark.faults
def test_records_sent_while_the_database_is_down_are_written_when_it_is_back(
    kafka_bootstrap: str, topics: TopicNames, postgres_url: str, postgres_server: Engine, database: Engine,
    worker: Supervisor,
) -> None:
    name = database.url.database
    worker.start("persist")
    worker.wait_ready()
    _produce(kafka_bootstrap, topics, _frames(0, 10))
    _wait("the first frames persisted", lambda: _counts(database)["routes"] == 10, worker)
    _wait("the first frames committed", lambda: set(_lag(kafka_bootstrap, topics).values()) == {0}, worker)
    database.dispose()
    _block(postgres_server, name, True)
    try:
        _produce(kafka_bootstrap, topics, _frames(10, 10))
        log = worker.workers[0].log
        _wait("the worker retrying", lambda: "database unavailable while writing" in log.read_text(), worker)
        assert _lag(kafka_bootstrap, topics)["manual-queue"] == 5  # pinned: not committed while retrying
        worker.stop()  # stopped while retrying: what it could not write must stay uncommitted
        assert {k: v for k, v in _lag(kafka_bootstrap, topics).items() if v} == {
            "manual-queue": 5, "deliveries": 5, "automation-results": 10}
    finally:
        _block(postgres_server, name, False)
    worker.start("persist")
    _wait("the frames sent during the outage persisted", lambda: _counts(database)["routes"] == 20, worker)
    assert _counts(database)["manual_tasks"] == 10
    _wait("everything committed", lambda: set(_lag(kafka_bootstrap, topics).values()) == {0}, worker)


def _block(server: Engine, database: str | None, blocked: bool) -> None:
    """Refuse new connections to ``database`` (and end the open ones), or allow them again."""
    with server.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" CONNECTION LIMIT {0 if blocked else -1}'))
        if blocked:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                               {"name": database})
