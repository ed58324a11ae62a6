"""The persist agent's logic in memory: batches by kind, model versions for blind tasks, retries while the database
is down, a refused record found and dead-lettered, and events held un-acknowledged until written.

The same agent runs against the real broker and PostgreSQL in tests/integration/test_persist.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError, OperationalError

from services.db.sink import Batch
from services.infra.topic_names import TopicNames
from services.loop.messages import DeadLetter, decode
from streams.agents.persist import Persister, pin, topics, unpin, until_done
from streams.errors import DeadLetters
from tests.services.loop.messages.samples import sample

NAMES = TopicNames(prefix="t-")


@dataclass
class FakeTopic:
    sent: list[bytes] = field(default_factory=list)

    async def send(self, *, key: bytes | None, value: bytes) -> None:
        self.sent.append(value)


@dataclass
class FakeMessage:
    topic: str
    value: bytes
    key: bytes = b"k"
    partition: int = 0
    offset: int = 0
    refcount: int = 1

    def incref(self) -> None:
        self.refcount += 1

    def decref(self) -> int:
        self.refcount = max(0, self.refcount - 1)
        return self.refcount


@dataclass
class Event:
    message: FakeMessage


@dataclass
class Database:
    """Records what it was asked to write; fails the first ``down`` calls as a database that is away."""

    down: int = 0
    refuses: str | None = None  # a frame id whose rows it refuses (IntegrityError)
    written: list[Batch] = field(default_factory=list)

    def write(self, batch: Batch) -> dict[str, int]:
        if self.down:
            self.down -= 1
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        if self.refuses and any(t.frame_id == self.refuses for t in batch.tasks):
            raise IntegrityError("INSERT", {}, Exception("value too long"))
        self.written.append(batch)
        return {"manual_tasks": len(batch.tasks)} if batch.tasks else {}


def event(base: str, doc: dict[str, Any] | bytes) -> Event:
    return Event(FakeMessage(NAMES.name(base), doc if isinstance(doc, bytes) else orjson.dumps(doc)))


def task(frame: str) -> Event:
    return event("manual-queue", sample("manual-queue", frame_id=frame, task_id=f"{frame}/1", copy=1, copies=1))


def automation(frame: str, version: str) -> Event:
    return event("automation-results", sample("automation-results", frame_id=frame, model_version=version))


@pytest.fixture
def letters() -> Iterator[FakeTopic]:
    yield FakeTopic()


def persister(db: Database, letters: FakeTopic) -> Persister:
    return Persister(db.write, DeadLetters(letters), NAMES, retry_first_s=0.001)


def run(p: Persister, *events: Event) -> None:
    asyncio.run(p.persist(list(events)))


def test_it_reads_the_decision_topics_and_the_routers_outputs() -> None:
    assert set(topics(NAMES)) == {"t-manual-queue", "t-deliveries", "t-comparisons", "t-agreement-stats",
                                  "t-recommendations", "t-policies", "t-automation-results"}


def test_a_batch_is_filed_by_kind_and_an_invalid_record_is_dead_lettered(letters: FakeTopic) -> None:
    db = Database()
    run(persister(db, letters), task("f-1"), event("deliveries", sample("deliveries", frame_id="f-2")),
        event("comparisons", sample("comparisons", frame_id="f-1")), event("policies", sample("policies")),
        event("agreement-stats", sample("agreement-stats")), event("recommendations", sample("recommendations")),
        event("manual-queue", b'{"task_id": 3}'), automation("f-3", "m@3"))
    (batch,) = db.written
    assert [len(getattr(batch, k)) for k in ("tasks", "deliveries", "comparisons", "stats", "recommendations",
                                              "policies")] == [1, 1, 1, 1, 1, 1]
    assert batch.model_versions == {"f-1": "m@1"}  # from the machine comparison; f-3 has no task here
    (letter,) = [decode(DeadLetter, raw) for raw in letters.sent]
    assert (letter.stage, letter.source_topic) == ("persist", "t-manual-queue")


def test_a_blind_task_gets_the_model_version_of_its_automation_result_from_an_earlier_batch(
    letters: FakeTopic,
) -> None:
    db = Database()
    p = persister(db, letters)
    run(p, automation("f-1", "m@1"), automation("f-2", "m@2"), event("automation-results", b"not json"))
    run(p, task("f-1"), task("f-9"))
    assert db.written[-1].model_versions == {"f-1": "m@1"}  # f-9's result not seen yet: filled in later


def test_a_task_read_before_its_automation_result_gets_the_version_when_the_result_is_read(
    letters: FakeTopic,
) -> None:
    db = Database()
    p = persister(db, letters)
    run(p, task("f-9"))
    assert db.written[-1].model_versions == {}
    run(p, automation("f-9", "m@9"), automation("f-8", "m@8"))  # a batch of results alone still fills the row
    assert db.written[-1].model_versions == {"f-9": "m@9"}  # f-8 had no task: no ledger row to fill
    run(p, automation("f-9", "m@9"))
    assert db.written[-1].model_versions == {}  # filled once


def test_a_database_that_is_down_is_retried_until_the_batch_is_written(letters: FakeTopic) -> None:
    db = Database(down=3)
    before = REGISTRY.get_sample_value("shadowqa_rows_persisted_total", {"table": "manual_tasks"}) or 0.0
    run(persister(db, letters), task("f-1"), task("f-2"))
    assert (db.down, len(db.written), letters.sent) == (0, 1, [])
    after = REGISTRY.get_sample_value("shadowqa_rows_persisted_total", {"table": "manual_tasks"})
    assert after == before + 2


def test_a_record_the_database_refuses_is_found_and_dead_lettered_and_the_others_written(letters: FakeTopic) -> None:
    db = Database(refuses="f-2")
    run(persister(db, letters), task("f-1"), task("f-2"), task("f-3"))
    assert sorted(t.frame_id for b in db.written for t in b.tasks) == ["f-1", "f-3"]
    (letter,) = [decode(DeadLetter, raw) for raw in letters.sent]
    assert letter.reason.startswith("persist failed: IntegrityError")


def test_until_done_raises_what_a_retry_cannot_fix() -> None:
    def refused() -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate"))

    with pytest.raises(IntegrityError):
        asyncio.run(until_done(refused, "writing", first_s=0.001))


def test_pinned_events_are_not_acknowledged_by_the_batchs_ack_until_unpinned() -> None:
    events = [task("f-1"), task("f-2")]
    pin(events)
    assert [e.message.decref() for e in events] == [1, 1]  # faust's ack of the batch: still referenced
    unpin(events)
    assert [e.message.refcount for e in events] == [0, 0]
