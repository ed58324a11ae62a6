"""K simulated people working the ``manual-queue`` of the broker, as one consumer-group member.

One consumer (this process's member of the group) fetches tasks and hands
them to ``workers`` threads, each a person who waits a human-like delay
(exponential around ``delay_ms``), annotates blind and sends the annotation.
Offsets are committed only up to the first task not yet done and acknowledged,
so a task nobody finished is delivered again (at least once), and more
processes with the same group share the queue's partitions. Concurrency is the
number of people, not the number of partitions.

Ctrl-C stops taking tasks and lets everyone finish the one in hand, so the
commit covers all that was sent and a restart repeats nothing; a second Ctrl-C
walks away at once (those tasks, and any finished after them, come again).

A broker outage pauses the pool: it waits for the broker to acknowledge what the
people sent before it commits (``services/tools/outage.py``), its consumer
rejoins by itself, and a probe that cannot reach the broker is no sign of a
stalled group. Tasks delivered again after the outage (at least once) are
annotated again, identically; the comparator's join ignores the duplicate.
"""

from __future__ import annotations

import contextlib
import queue
import random
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer  # type: ignore[import-untyped, unused-ignore]
from kafka.errors import KafkaError  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import OffsetAndMetadata, TopicPartition  # type: ignore[import-untyped, unused-ignore]

from services.infra.client import admin_client
from services.infra.topic_names import TopicNames
from services.tools.annotators import error_model, handle_task
from services.tools.exceptions import WorkerFailed
from services.tools.kafka import CLIENT_ID, RECONNECT_BACKOFF_MAX_MS, Record, Sink, require_topics
from services.tools.offsets import OffsetTracker, Partition
from services.tools.outage import patient_sink

POLL_MS = 100
COMMIT_EVERY_S = 0.2
PROBE_EVERY_S = 5.0
STALL_S = 30.0
EMPTY_GRACE_S = 5.0  # kafka-python's first assignment is often empty, until it has the topic's metadata
PROGRESS_EVERY_S = 1.0
LAST_COMMIT_TIMEOUT_MS = 20_000  # on the way out (Ctrl-C, SIGINT): never wait for a coordinator longer than this
WALK_AWAY_S = 5.0  # on the way out: a person still sending (the broker away) is left behind after this long


@dataclass(frozen=True)
class PoolOptions:
    """How many people, how good, how fast, and when to stop (``stop_after`` tasks, or ``idle_seconds`` idle)."""

    workers: int = 2
    error_model: str = "default"
    seed: int = 0
    delay_ms: float = 0.0
    stop_after: int | None = None
    idle_seconds: float | None = None
    group: str = "shadowqa-annotators"

    @property
    def people(self) -> int:
        """Simulated people annotators are drawn from: ``workers``, but at least two for consensus copies."""
        return max(self.workers, 2)


@dataclass(frozen=True)
class PoolSummary:
    annotated: int
    dead_letters: int
    per_annotator: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    interrupted: bool = False

    def line(self) -> str:
        people = ", ".join(f"{k}: {v}" for k, v in sorted(self.per_annotator.items()))
        return (("interrupted: " if self.interrupted else "")
                + f"annotated {self.annotated:,} tasks, {self.dead_letters:,} dead letters in {self.elapsed_s:.1f} s"
                + (f" ({people})" if people else ""))


def simulate_annotators(
    bootstrap: str, topics: TopicNames, options: PoolOptions, *, progress: Callable[[PoolSummary], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> PoolSummary:
    """Run the simulated people until ``options`` says stop (or Ctrl-C: ``interrupted``); returns what they did.
    ``on_ready`` is called once the group has handed them partitions of the queue (they take tasks from then on)."""
    require_topics(bootstrap, [topics.manual_queue, topics.manual_annotations, topics.dead_letters])
    sink = patient_sink(bootstrap, "annotators")

    def member(pool: AnnotatorPool) -> Any:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=options.group, client_id=f"{CLIENT_ID}-annotators",
            enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed",
            session_timeout_ms=10_000, heartbeat_interval_ms=3_000,  # a killed member's tasks move on soon
            reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
        )
        consumer.subscribe([topics.manual_queue], listener=_Listener(pool))
        return consumer

    pool = AnnotatorPool(None, sink, topics, options, progress, rejoin=member, on_ready=on_ready)
    pool.consumer = member(pool)
    with admin_client(bootstrap) as admin:  # one admin client for the stall probes of the whole run
        pool.probe = lambda: _group_lag(admin, options.group, topics.manual_queue, pool.consumer)
        try:
            return pool.run()
        finally:
            pool.consumer.close(autocommit=False, timeout_ms=LAST_COMMIT_TIMEOUT_MS)
            sink.close(timeout_s=LAST_COMMIT_TIMEOUT_MS / 1000)


@dataclass(frozen=True)
class _Outcome:
    partition: Partition
    offset: int
    annotator: str | None  # None: dead-lettered
    finished: bool = True  # False: abandoned mid-delay, to be delivered again


class AnnotatorPool:
    """The fetch-dispatch-commit loop (main thread) and the people (worker threads)."""

    def __init__(self, consumer: Any, sink: Sink, topics: TopicNames, options: PoolOptions,
                 progress: Callable[[PoolSummary], None] | None,
                 rejoin: Callable[[AnnotatorPool], Any] | None = None,
                 on_ready: Callable[[], None] | None = None) -> None:
        self.consumer, self.sink, self.topics, self.options, self.progress = consumer, sink, topics, options, progress
        self.on_ready = on_ready  # called once, when the group first hands this pool partitions of the queue
        self.rejoin = rejoin  # builds a fresh group member when the group has stalled
        self.probe: Callable[[], tuple[int, Any]] | None = None  # (tasks waiting, the group's commits)
        self.last_probe = self.stalled_since = time.monotonic()
        self.last_committed: Any = None
        self.model = error_model(options.error_model)
        self.tasks: queue.Queue[Record] = queue.Queue(maxsize=options.workers)
        self.outcomes: queue.Queue[_Outcome | BaseException] = queue.Queue()
        self.pending: deque[Record] = deque()
        self.tracker = OffsetTracker()
        self.abort = threading.Event()  # walk away now, even mid-task
        self.draining = threading.Event()  # take no new task, finish the one in hand
        self.interrupted = False  # Ctrl-C (SIGINT) arrived
        self.counts: Counter[str] = Counter()
        self.dead = self.dispatched = self.returned = 0
        self.failure: BaseException | None = None
        self.started = time.monotonic()
        self.last_activity: float | None = None  # set once the group assigned partitions
        self.last_commit = self.last_progress = self.started

    def run(self) -> PoolSummary:
        people = [threading.Thread(target=self._person, args=(k,), name=f"annotator-{k}", daemon=True)
                  for k in range(self.options.workers)]
        for person in people:
            person.start()
        try:
            with _sigint_drains(self):
                try:
                    while not self._finished():
                        self._step()
                except KeyboardInterrupt:  # raised inside a call: a pool off the main thread has no handler of ours
                    self.interrupt()  # the second raises again: walk away
                self._drain()
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: walk away at once (abort below); what is done is still committed
        finally:
            self.abort.set()
            self._wait_for(people)
            self._collect()
            self._commit(timeout_ms=LAST_COMMIT_TIMEOUT_MS)
        if self.failure is not None:
            raise WorkerFailed(f"a simulated annotator stopped: {type(self.failure).__name__}: {self.failure}")
        return self.summary(self.interrupted)

    def _wait_for(self, people: list[threading.Thread]) -> None:
        """Join the people, at most WALK_AWAY_S in all: one can be stuck sending while the broker is away (the sink
        waits out outages), and a second Ctrl-C must still end the tool. Their tasks are not committed: they come
        again (the threads are daemons and die with the process)."""
        deadline = time.monotonic() + WALK_AWAY_S
        for person in people:
            person.join(timeout=max(0.0, deadline - time.monotonic()))
        if stuck := sum(person.is_alive() for person in people):
            print(f"annotators: {stuck} still sending after {WALK_AWAY_S:.0f} s (is the broker away?); their tasks "
                  "stay uncommitted and come again", file=sys.stderr, flush=True)

    def interrupt(self) -> None:
        """Ctrl-C (SIGINT): the first stops taking tasks and lets everyone finish the one in hand; the second raises
        KeyboardInterrupt, to walk away at once."""
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self.draining.set()

    def summary(self, interrupted: bool = False) -> PoolSummary:
        return PoolSummary(sum(self.counts.values()), self.dead, dict(self.counts), time.monotonic() - self.started,
                           interrupted)

    def _drain(self) -> None:
        """Let everyone finish the task in hand; tasks not started go back (uncommitted) to the queue."""
        self.draining.set()
        while self._in_flight() and not self.abort.is_set():
            time.sleep(0.01)
            self._collect()

    # --- main thread --------------------------------------------------------------------------------

    def _step(self) -> None:
        if len(self.pending) < self.options.workers and not self._budget_spent():
            for records in self.consumer.poll(timeout_ms=POLL_MS, max_records=self.options.workers).values():
                for r in records:
                    self.tracker.fetched((r.topic, r.partition), r.offset)
                    self.pending.append(Record.of(r))
                    self.last_activity = time.monotonic()
        else:
            time.sleep(POLL_MS / 1000)
        self._watch_membership()
        self._dispatch()
        self._collect()
        now = time.monotonic()
        if now - self.last_commit >= COMMIT_EVERY_S:
            self._commit()
        if self.progress is not None and now - self.last_progress >= PROGRESS_EVERY_S:
            self.last_progress = now
            self.progress(self.summary())

    def _dispatch(self) -> None:
        while self.pending and not self.tasks.full() and not self._budget_spent():
            self.tasks.put_nowait(self.pending.popleft())
            self.dispatched += 1
        if self._budget_spent():
            self.pending.clear()  # never started: they stay uncommitted for the next consumer

    def _collect(self) -> None:
        while True:
            try:
                outcome = self.outcomes.get_nowait()
            except queue.Empty:
                return
            if isinstance(outcome, BaseException):
                self.failure = self.failure or outcome
                self.abort.set()
                continue
            self.returned += 1
            if not outcome.finished:
                continue
            self.tracker.done(outcome.partition, outcome.offset)
            self.last_activity = time.monotonic()
            if outcome.annotator is None:
                self.dead += 1
            else:
                self.counts[outcome.annotator] += 1

    def _commit(self, timeout_ms: int | None = None) -> None:
        """Commit what is done, once the broker acknowledged everything the people sent; the last commit, on the way
        out, waits at most ``timeout_ms`` for the group's coordinator (what it could not commit is delivered
        again: at least once)."""
        self.last_commit = time.monotonic()
        offsets = self.tracker.committable()
        if not offsets:
            return
        self.sink.flush()
        try:
            self.consumer.commit(_offsets(offsets), timeout_ms=timeout_ms)
        except KafkaError:
            return  # the group moved on (rebalance): those tasks are delivered again, at least once
        self.tracker.committed(offsets)

    def _in_flight(self) -> int:
        return self.dispatched - self.returned

    def _budget_spent(self) -> bool:
        return self.options.stop_after is not None and self.dispatched >= self.options.stop_after

    def _finished(self) -> bool:
        if self.abort.is_set() or self.interrupted:
            return True
        if self._budget_spent() and self._in_flight() == 0:
            return True
        idle = self.options.idle_seconds
        quiet = self.last_activity is not None and not self.pending and self._in_flight() == 0
        return idle is not None and quiet and time.monotonic() - (self.last_activity or 0.0) >= idle

    def _watch_membership(self) -> None:
        """Replace this group member when the whole group has stalled: tasks wait (lag > 0), nobody has
        committed anything for STALL_S, and nothing is in hand here. kafka-python 3.0.12 once never
        completed a join in a clean-clone test run (the group stayed Empty while poll() spun for minutes);
        an idle extra member of a working group is left alone, as the others' commits move."""
        if self.rejoin is None or self.probe is None:
            return
        now = time.monotonic()
        if now - self.last_probe < PROBE_EVERY_S:
            return
        self.last_probe = now
        try:
            lag, committed = self.probe()
        except (KafkaError, OSError):  # the broker is away: the group is not stalled, it waits with it
            self.stalled_since = now
            return
        if lag == 0 or committed != self.last_committed or self.pending or self._in_flight():
            self.last_committed, self.stalled_since = committed, now
            return
        if now - self.stalled_since >= STALL_S:
            print(f"annotators: {lag:,} tasks waiting and no progress for {STALL_S:.0f} s; rejoining the group "
                  "with a new member", file=sys.stderr, flush=True)
            self.consumer.close(autocommit=False)
            self.consumer = self.rejoin(self)
            self.stalled_since = now

    def assigned(self, partitions: set[Partition]) -> None:
        """Partitions arrived: the idle clock starts (an empty assignment gets a grace period first)."""
        now = time.monotonic()
        if partitions:
            self.last_activity = now
            if self.on_ready is not None:
                ready, self.on_ready = self.on_ready, None
                ready()
        elif self.last_activity is None:
            self.last_activity = now + EMPTY_GRACE_S

    def revoked(self, partitions: set[Partition]) -> None:
        """Commit what is done and leave the revoked partitions' other tasks to their next owner.

        Tasks of those partitions still in people's hands are finished and sent
        anyway; the next owner gets them again (at least once).
        """
        self._collect()
        offsets = {p: o for p, o in self.tracker.committable().items() if p in partitions}
        if offsets:  # rebalance callbacks run on kafka-python's network thread: no blocking commit there
            self.sink.flush()
            self.consumer.commit_async(_offsets(offsets))
        self.pending = deque(r for r in self.pending if (r.topic, r.partition) not in partitions)
        self.tracker.forget(partitions)

    # --- worker threads -----------------------------------------------------------------------------

    def _person(self, k: int) -> None:
        rng = random.Random(f"{self.options.seed}:{k}")
        while not self.abort.is_set():
            try:
                record = self.tasks.get(timeout=POLL_MS / 1000)
            except queue.Empty:
                continue
            self.outcomes.put(self._annotate(record, rng))

    def _annotate(self, record: Record, rng: random.Random) -> _Outcome | BaseException:
        where = (record.topic, record.partition)
        mean = self.options.delay_ms / 1000
        if self.draining.is_set() or (mean > 0 and self.abort.wait(rng.expovariate(1.0 / mean))):
            return _Outcome(where, record.offset, None, finished=False)
        try:
            name = handle_task(record, self.sink, self.topics, seed=self.options.seed, model=self.model,
                               people=self.options.people, now=time.time())
        except Exception as exc:  # the sink failed: stop everyone, report it
            return exc
        return _Outcome(where, record.offset, name)


@contextlib.contextmanager
def _sigint_drains(pool: AnnotatorPool) -> Iterator[None]:
    """While the pool runs (on the main thread), SIGINT calls ``pool.interrupt``: the first is a flag the loop
    reads between steps, never a KeyboardInterrupt inside a kafka-python call. Installed even when the process
    inherited SIGINT ignored, as a background job of a shell without job control is started: SIGINT is how
    ``pipeline run`` and its tests stop the people, and a clean-clone test run launched so saw them ignore it and
    be killed 60 s later (uvicorn installs its handlers so too)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pool.interrupt())
    try:
        yield
    finally:
        if previous is not None:  # None: a handler not installed from Python, which cannot be put back
            signal.signal(signal.SIGINT, previous)


def _offsets(offsets: dict[Partition, int]) -> dict[Any, Any]:
    return {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()}


def _group_lag(admin: Any, group: str, topic: str, consumer: Any) -> tuple[int, Any]:
    """Tasks the group has not committed yet, and its committed offsets (to see whether they move)."""
    committed = admin.list_group_offsets(group).get(group, {})
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    ends = consumer.end_offsets(partitions) if partitions else {}
    done = {(tp.topic, tp.partition): getattr(meta, "offset", meta) for tp, meta in committed.items()}
    lag = sum(max(0, end - max(0, done.get((tp.topic, tp.partition), 0) or 0)) for tp, end in ends.items())
    return lag, tuple(sorted(done.items()))


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc, unused-ignore]
    def __init__(self, pool: AnnotatorPool) -> None:
        self.pool = pool

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.pool.revoked({(tp.topic, tp.partition) for tp in revoked})

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.pool.assigned({(tp.topic, tp.partition) for tp in assigned})
