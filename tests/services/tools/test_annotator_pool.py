"""The people's loop with an in-memory consumer: budgets, out-of-order work and Ctrl-C never lose or repeat a task."""

from __future__ import annotations

import os
import signal
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]

from services.infra.topic_names import TopicNames
from services.loop.messages import ManualAnnotation, ManualTask, decode, encode, task_id
from services.tools.annotator_pool import LAST_COMMIT_TIMEOUT_MS, AnnotatorPool, PoolOptions
from tests.services.tools.memory import MemorySink

TOPICS = TopicNames("t-")


@dataclass(frozen=True)
class FakeRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes
    value: bytes


class FakeConsumer:
    """Hands out the records of two partitions a few at a time; remembers commits; Ctrl-C on poll number N."""

    def __init__(self, n: int, interrupt_on_poll: int | None = None) -> None:
        self.queues: dict[int, list[FakeRecord]] = defaultdict(list)
        for i in range(n):
            frame_id = f"driving-s0-{i:06d}"
            task = ManualTask(task_id=task_id(frame_id, 1), frame_id=frame_id, seq=i + 1, copy=1,
                              image=f"synthetic://driving?seed=0#{i}", inclusion_prob=1.0, consensus_prob=0.0,
                              policy_version=0, time=0.0)
            p = i % 2
            self.queues[p].append(FakeRecord(TOPICS.manual_queue, p, len(self.queues[p]), 0, frame_id.encode(),
                                             encode(task)))
        self.position = dict.fromkeys(self.queues, 0)
        self.committed: dict[int, int] = {}
        self.polls, self.interrupt_on_poll = 0, interrupt_on_poll
        self.timeouts: list[int | None] = []
        self.coordinator_gone = False

    def poll(self, timeout_ms: int, max_records: int) -> dict[Any, list[FakeRecord]]:
        self.polls += 1
        if self.polls == self.interrupt_on_poll:
            raise KeyboardInterrupt
        out: dict[Any, list[FakeRecord]] = {}
        for p, records in self.queues.items():
            batch = records[self.position[p]:self.position[p] + max_records]
            if batch:
                self.position[p] += len(batch)
                out[TopicPartition(TOPICS.manual_queue, p)] = batch
                break
        return out

    def commit(self, offsets: dict[Any, Any], timeout_ms: int | None = None) -> None:
        self.timeouts.append(timeout_ms)
        if self.coordinator_gone and timeout_ms is not None:
            raise KafkaTimeoutError("the group's coordinator did not answer")  # as kafka-python says past timeout_ms
        for tp, meta in offsets.items():
            assert meta.offset >= self.committed.get(tp.partition, 0), "commits never go back"
            self.committed[tp.partition] = meta.offset

    commit_async = commit


def _run(consumer: FakeConsumer, **options: Any) -> tuple[Any, MemorySink]:
    sink = MemorySink()
    pool = AnnotatorPool(consumer, sink, TOPICS, PoolOptions(**options), None)
    pool.assigned({(TOPICS.manual_queue, 0), (TOPICS.manual_queue, 1)})
    return pool.run(), sink


def _done_offsets(consumer: FakeConsumer, sink: MemorySink) -> dict[int, list[int]]:
    """Offsets (per partition) of the tasks that were annotated, from the annotations' frame ids."""
    where = {r.key: (p, r.offset) for p, records in consumer.queues.items() for r in records}
    done: dict[int, list[int]] = defaultdict(list)
    for key, value in sink.on(TOPICS.manual_annotations):
        assert key is not None
        p, offset = where[key]
        assert decode(ManualAnnotation, value).frame_id.encode() == key
        done[p].append(offset)
    return {p: sorted(v) for p, v in done.items()}


def test_every_task_is_annotated_once_and_everything_is_committed() -> None:
    consumer = FakeConsumer(20)
    summary, sink = _run(consumer, workers=3, stop_after=20)
    assert summary.annotated == 20 and not summary.interrupted
    assert _done_offsets(consumer, sink) == {0: list(range(10)), 1: list(range(10))}
    assert consumer.committed == {0: 10, 1: 10}


def test_a_budget_stops_after_that_many_tasks_and_commits_only_those() -> None:
    consumer = FakeConsumer(20)
    summary, sink = _run(consumer, workers=4, stop_after=7, delay_ms=5.0)
    done = _done_offsets(consumer, sink)
    assert summary.annotated == 7 == sum(len(v) for v in done.values())
    assert consumer.committed == {p: len(v) for p, v in done.items()}  # exactly what was done, nothing skipped
    assert all(v == list(range(len(v))) for v in done.values())


@pytest.mark.parametrize("interrupt_on_poll", [2, 4, 6])
def test_ctrl_c_lets_people_finish_and_commits_exactly_what_they_sent(interrupt_on_poll: int) -> None:
    consumer = FakeConsumer(30, interrupt_on_poll=interrupt_on_poll)
    summary, sink = _run(consumer, workers=4, delay_ms=30.0, idle_seconds=5.0)
    done = _done_offsets(consumer, sink)
    assert summary.interrupted and summary.annotated == sum(len(v) for v in done.values())
    assert all(v == list(range(len(v))) for v in done.values())  # no gaps: a restart repeats nothing
    assert {p: consumer.committed.get(p, 0) for p in (0, 1)} == {p: len(done.get(p, [])) for p in (0, 1)}


class SignallingConsumer(FakeConsumer):
    """Sends this process SIGINT on the polls listed (a real Ctrl-C, not a KeyboardInterrupt raised in the call)."""

    def __init__(self, n: int, sigint_on_polls: tuple[int, ...]) -> None:
        super().__init__(n)
        self.sigint_on_polls = sigint_on_polls

    def poll(self, timeout_ms: int, max_records: int) -> dict[Any, list[FakeRecord]]:
        if self.polls + 1 in self.sigint_on_polls:
            os.kill(os.getpid(), signal.SIGINT)
        return super().poll(timeout_ms, max_records)


@pytest.mark.parametrize("inherited", [signal.default_int_handler, signal.SIG_IGN])
def test_sigint_drains_the_pool_even_when_the_process_inherited_it_ignored(inherited: Any) -> None:
    """A background job of a shell without job control starts with SIGINT ignored; a clean-clone test run launched
    so saw the people ignore `pipeline run`'s SIGINT and be killed 60 s later. The pool hears it all the same, and
    puts the process's handler back when it returns."""
    previous = signal.signal(signal.SIGINT, inherited)
    try:
        consumer = SignallingConsumer(30, sigint_on_polls=(3,))
        summary, sink = _run(consumer, workers=4, delay_ms=30.0, idle_seconds=5.0)
        assert signal.getsignal(signal.SIGINT) is inherited
    finally:
        signal.signal(signal.SIGINT, previous)
    done = _done_offsets(consumer, sink)
    assert summary.interrupted and summary.annotated == sum(len(v) for v in done.values()) > 0
    assert {p: consumer.committed.get(p, 0) for p in (0, 1)} == {p: len(done.get(p, [])) for p in (0, 1)}


def test_a_second_sigint_walks_away_and_still_commits_what_is_done() -> None:
    consumer = SignallingConsumer(30, sigint_on_polls=(3,))
    pool = AnnotatorPool(consumer, MemorySink(), TOPICS, PoolOptions(workers=2, delay_ms=10_000.0), None)
    pool.assigned({(TOPICS.manual_queue, 0), (TOPICS.manual_queue, 1)})
    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()  # while the two wait out their delay
    summary = pool.run()  # without the second SIGINT this would take the people's 10 s delays
    assert summary.interrupted and summary.annotated == 0
    assert all(offset == 0 for offset in consumer.committed.values())  # nothing was done: nothing moves


class StuckSink(MemorySink):
    """A producer that cannot queue anything (a PatientSink waiting out a broker outage) until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release, self.entered = threading.Event(), threading.Event()

    def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        self.entered.set()
        self.release.wait()
        super().send(topic, key, value)


def test_a_second_sigint_leaves_a_person_stuck_sending_behind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """During an outage a person waits in the sink's send; the second Ctrl-C must still end the tool (it once waited
    for that send), and the stuck task is not committed: it comes again."""
    import services.tools.annotator_pool as pool_module

    monkeypatch.setattr(pool_module, "WALK_AWAY_S", 0.2)
    consumer, sink = FakeConsumer(4), StuckSink()
    pool = AnnotatorPool(consumer, sink, TOPICS, PoolOptions(workers=1), None)
    pool.assigned({(TOPICS.manual_queue, 0), (TOPICS.manual_queue, 1)})

    def two_ctrl_c() -> None:
        sink.entered.wait()
        os.kill(os.getpid(), signal.SIGINT)  # drain: the person never finishes its task
        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()  # walk away

    threading.Thread(target=two_ctrl_c, daemon=True).start()
    try:
        summary = pool.run()
        assert not sink.release.is_set()  # it returned while the send was still stuck
    finally:
        sink.release.set()
    assert summary.interrupted and summary.annotated == 0
    assert all(offset == 0 for offset in consumer.committed.values())
    assert "1 still sending" in capsys.readouterr().err


def test_the_last_commit_on_the_way_out_waits_a_bounded_time_and_an_unanswered_one_still_exits() -> None:
    """After Ctrl-C the last commit may not wait forever for a coordinator (a clean-clone CI run once saw the
    annotators outlive the 60 s grace after SIGINT, following a broker restart): it is bounded, and when it times
    out the tool still ends with its summary (the uncommitted tasks are delivered again, at least once)."""
    consumer = FakeConsumer(30, interrupt_on_poll=3)  # three tasks in hand at Ctrl-C: done, committed on the way out
    consumer.coordinator_gone = True
    summary, _ = _run(consumer, workers=3)
    assert summary.interrupted
    assert consumer.timeouts and consumer.timeouts[-1] == LAST_COMMIT_TIMEOUT_MS
    assert all(t is None for t in consumer.timeouts[:-1])  # while running, a commit waits for the broker as before


def test_idle_seconds_stop_a_quiet_queue() -> None:
    consumer = FakeConsumer(6)
    summary, _ = _run(consumer, workers=2, idle_seconds=0.3)
    assert summary.annotated == 6 and consumer.committed == {0: 3, 1: 3}


class StuckConsumer(FakeConsumer):
    """A member that never gets anything (kafka-python's join that never completes)."""

    closed = False

    def poll(self, timeout_ms: int, max_records: int) -> dict[Any, list[FakeRecord]]:
        return {}

    def close(self, autocommit: bool = False) -> None:
        self.closed = True


def _stalled_pool(probe: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[AnnotatorPool, list[Any], StuckConsumer]:
    import services.tools.annotator_pool as pool_module

    monkeypatch.setattr(pool_module, "PROBE_EVERY_S", 0.0)
    monkeypatch.setattr(pool_module, "STALL_S", 0.2)
    stuck, fresh = StuckConsumer(0), FakeConsumer(4)
    made: list[Any] = []

    def rejoin(pool: AnnotatorPool) -> Any:
        made.append(fresh)
        return fresh

    pool = AnnotatorPool(stuck, MemorySink(), TOPICS, PoolOptions(stop_after=4), None, rejoin=rejoin)
    pool.probe = probe
    return pool, made, stuck


def test_a_member_of_a_stalled_group_is_replaced_and_the_tasks_get_done(monkeypatch: pytest.MonkeyPatch) -> None:
    pool, made, stuck = _stalled_pool(lambda: (4, ()), monkeypatch)  # 4 waiting, commits never move
    summary = pool.run()
    assert stuck.closed and len(made) == 1
    assert summary.annotated == 4


def test_a_member_is_left_alone_while_the_group_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    moving = iter(range(10**9))
    pool, made, stuck = _stalled_pool(lambda: (4, (next(moving),)), monkeypatch)
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        pool._watch_membership()
        time.sleep(0.01)
    assert not made and not stuck.closed


def test_a_probe_that_cannot_reach_the_broker_is_no_stall(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    def away() -> Any:
        raise KafkaConnectionError("connection refused")

    pool, made, stuck = _stalled_pool(away, monkeypatch)
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        pool._watch_membership()  # never raises: the broker's absence stops no tool
        time.sleep(0.01)
    assert not made and not stuck.closed


def test_ready_is_said_once_when_the_group_first_hands_out_partitions() -> None:
    said: list[str] = []
    pool = AnnotatorPool(FakeConsumer(0), MemorySink(), TOPICS, PoolOptions(), None,
                         on_ready=lambda: said.append("ready"))
    pool.assigned(set())  # kafka-python's first assignment is often empty: not ready yet
    assert said == []
    pool.assigned({(TOPICS.manual_queue, 0)})
    pool.assigned({(TOPICS.manual_queue, 1)})  # a later rebalance says nothing again
    assert said == ["ready"]
