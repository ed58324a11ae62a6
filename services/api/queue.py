"""The manual annotation queue on the database: claim, heartbeat, submit, skip, and lease expiry.

Guarantees (tests/services/api/test_queue_concurrency.py checks them with 20
concurrent annotators on PostgreSQL):

- a task is leased to one annotator at a time: a claim locks the row it takes
  (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite serializes writers) and every
  later step checks the lease owner and deadline under that lock;
- an expired lease goes back to the queue exactly once: the sweep moves only
  rows still ``leased`` past their deadline, under the row lock, and counts it;
- the two copies of a frame go to two different people, and a task someone
  skipped is never offered to them again (the lease log, ``task_leases``);
- strata with the least evidence (fewest submitted annotations) are served
  first, oldest task first within a stratum. The counts are kept per process
  (:class:`Evidence`): this process's submissions count at once, other
  replicas' within seconds, so a claim does not count the whole history.

Deadlines are checked against the API's clock: a submission after the deadline
is refused (the task has gone or is going back to the queue).

On SQLite a write waits for the database at most ``wait_s`` in all, from one
deadline: first for this process's other writers (one writer at a time), then,
with what is left as the connection's busy timeout, for another process's
write lock; then :class:`DatabaseBusy` or SQLite's "database is locked".
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, exists, func, select, text
from sqlalchemy.orm import Session

from services.api.exceptions import AnswerMismatch, DatabaseBusy, LeaseLost, NotYourTask, TooManyLeases
from services.api.queue_evidence import EVIDENCE_MAX_AGE_S, Evidence
from services.db.engine import session_factory
from services.db.models import ManualAnnotationRow, ManualTaskRow, TaskLeaseRow
from services.db.states import LEASABLE, TaskState, transition
from services.loop.messages import AnnotatedFrame, AnnotatedObject

LEASABLE_STATES = tuple(s.value for s in LEASABLE)
__all__ = ["EVIDENCE_MAX_AGE_S", "Evidence", "Expired", "Lease", "Queue", "QueueConfig"]


@dataclass(frozen=True)
class Lease:
    """A task as its leaseholder sees it: what to annotate and until when; nothing of the machine's answer."""

    task_id: str
    frame_id: str
    image: str
    copy: int
    stratum: str
    lease_deadline: float
    attempts: int
    clip: dict[str, Any] | None = None  # a clip task: its ``TaskClip`` (the clip's frames), as the task carries it


@dataclass(frozen=True)
class Expired:
    task_id: str
    stratum: str
    annotator: str


@dataclass(frozen=True)
class QueueConfig:
    lease_s: float = 300.0  # a claim's lease; a heartbeat extends it by as much again
    max_leases: int = 1  # tasks one annotator may hold at once
    wait_s: float | None = None  # SQLite: how long a write waits for the database in all (None: the engine's wait)


class Queue:
    """Queue operations, each in its own transaction; safe from many threads and processes."""

    def __init__(self, engine: Engine, config: QueueConfig | None = None,
                 clock: Callable[[], float] = time.time,
                 on_expired: Callable[[list[Expired]], None] | None = None) -> None:
        """``on_expired`` hears of every lease that ran out, once, after the sweep that requeued it committed
        (the API's sweeper thread or a claim that found it first)."""
        self.config = config or QueueConfig()
        self._on_expired = on_expired
        self._sessions = session_factory(engine)
        self._postgres = engine.dialect.name == "postgresql"
        self._sqlite_writer = threading.Lock()  # SQLite has one writer: take turns here rather than fail busy
        self._clock = clock
        self.evidence = Evidence()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        wait = self.config.wait_s
        deadline = None if wait is None else time.monotonic() + wait
        with self._turn(deadline), self._sessions() as session, session.begin():
            if not self._postgres:  # take SQLite's write lock first: a read-then-write transaction could
                _begin_immediate(session.connection(), deadline)  # otherwise fail on another's commit
            yield session

    @contextlib.contextmanager
    def _turn(self, deadline: float | None) -> Iterator[None]:
        """SQLite: this process's writers one at a time, each waiting for its turn until ``deadline`` at most."""
        if self._postgres:
            yield
            return
        if not self._sqlite_writer.acquire(timeout=-1 if deadline is None else max(0.0, deadline - time.monotonic())):
            raise DatabaseBusy(f"the database was not free for writing within {self.config.wait_s:g} s")
        try:
            yield
        finally:
            self._sqlite_writer.release()

    def sweep(self) -> list[Expired]:
        """Move every lease past its deadline back to the queue (leased → expired → requeued), once each."""
        with self._write() as session:
            gone = self._sweep(session, self._clock())
        self._report(gone)
        return gone

    def claim(self, annotator: str) -> Lease | None:
        """The next task for ``annotator``, leased to them; None when nothing is left that they may take."""
        now = self._clock()
        with self._write() as session:
            gone = self._sweep(session, now)
            self._serialize(session, annotator)
            held = session.scalar(select(func.count()).select_from(ManualTaskRow).where(
                ManualTaskRow.state == TaskState.LEASED.value, ManualTaskRow.lease_owner == annotator))
            if held and held >= self.config.max_leases:
                raise TooManyLeases("", f"{annotator} already holds {held} task(s) (at most "
                                        f"{self.config.max_leases}); submit, skip or let one expire first")
            lease = self._take(session, annotator, now, self.config.lease_s)
        self._report(gone)
        return lease

    def claim_batch(self, assignee: str, size: int, lease_s: float) -> list[Lease]:
        """Up to ``size`` tasks leased to ``assignee`` for ``lease_s`` (a batch for an external tool)."""
        now = self._clock()
        with self._write() as session:
            gone = self._sweep(session, now)
            self._serialize(session, assignee)
            leases: list[Lease] = []
            while len(leases) < size and (lease := self._take(session, assignee, now, lease_s)) is not None:
                leases.append(lease)
                session.flush()  # the next pick sees this lease (both copies of a frame never in one batch)
        self._report(gone)
        return leases

    def _report(self, gone: list[Expired]) -> None:
        if gone and self._on_expired is not None:
            self._on_expired(gone)

    def _serialize(self, session: Session, annotator: str) -> None:
        if self._postgres:  # one claim at a time per annotator: the copy and lease-count rules hold
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:who))"), {"who": annotator})

    def _take(self, session: Session, annotator: str, now: float, lease_s: float) -> Lease | None:
        row = session.scalars(self._next(annotator, self.evidence.counts(session))).first()
        if row is None:
            return None
        # the time again, with the row locked: whoever handed it back (a sweeper, a skip) has committed, at an
        # earlier time than this; ``now`` was read before, so the lease log could show two holders at once
        now = max(now, self._clock())
        row.state = transition(row.task_id, row.state, TaskState.LEASED).value
        row.lease_owner, row.lease_deadline = annotator, now + lease_s
        row.attempts += 1
        row.updated_at = now
        session.add(TaskLeaseRow(task_id=row.task_id, frame_id=row.frame_id, annotator=annotator, leased_at=now))
        return _lease(row)

    def heartbeat(self, annotator: str, task_id: str) -> Lease:
        """Extend the caller's lease by the lease length from now."""
        now = self._clock()
        with self._write() as session:
            row = self._held(session, annotator, task_id, now)
            row.lease_deadline, row.updated_at = now + self.config.lease_s, now
            return _lease(row)

    def held(self, annotator: str, task_id: str) -> Lease:
        """The caller's leased task (404 for anyone else's, or none)."""
        with self._sessions() as session:
            row = session.scalar(select(ManualTaskRow).where(ManualTaskRow.task_id == task_id))
            if row is None or row.state != TaskState.LEASED.value or row.lease_owner != annotator:
                raise NotYourTask(task_id, "no such task leased to you")
            return _lease(row)

    def image_of(self, task_id: str) -> str | None:
        """The frame reference of a task (any state), None for no such task."""
        with self._sessions() as session:
            return session.scalar(select(ManualTaskRow.image).where(ManualTaskRow.task_id == task_id))

    def mine(self, annotator: str) -> list[Lease]:
        with self._sessions() as session:
            rows = session.scalars(select(ManualTaskRow).where(
                ManualTaskRow.state == TaskState.LEASED.value, ManualTaskRow.lease_owner == annotator,
            ).order_by(ManualTaskRow.lease_deadline)).all()
            return [_lease(r) for r in rows]

    def submit(self, annotator: str, task_id: str, objects: Sequence[AnnotatedObject],
               tags: dict[str, str], clip_frames: Sequence[AnnotatedFrame] | None = None) -> ManualAnnotationRow:
        """Record the caller's annotation and close the task (the outbox publishes it to Kafka); a clip task's
        answer is ``clip_frames``, the objects of its frames (:class:`AnswerMismatch` if it does not fit)."""
        now = self._clock()
        with self._write() as session:
            row = self._held(session, annotator, task_id, now)
            _check_fits(task_id, row.clip, clip_frames)
            row.state = transition(task_id, row.state, TaskState.SUBMITTED).value
            row.lease_deadline, row.updated_at = None, now
            self._close_lease(session, task_id, annotator, now, "submitted")
            answer = ManualAnnotationRow(
                task_id=task_id, annotator=annotator, objects=[o.model_dump(mode="json") for o in objects],
                tags=dict(tags), submitted_at=now, published_at=None,
                clip_frames=None if clip_frames is None else [f.model_dump(mode="json") for f in clip_frames],
            )
            session.add(answer)
            stratum = row.stratum
        self.evidence.add(stratum)
        return answer

    def skip(self, annotator: str, task_id: str, reason: str) -> None:
        """Hand the task back with a reason; it goes to someone else, never to this annotator again."""
        now = self._clock()
        with self._write() as session:
            row = self._held(session, annotator, task_id, now)
            row.state = transition(task_id, row.state, TaskState.REQUEUED).value
            row.lease_owner, row.lease_deadline, row.updated_at = None, None, now
            self._close_lease(session, task_id, annotator, now, "skipped", reason)

    def _next(self, annotator: str, evidence: dict[str, int]):  # type: ignore[no-untyped-def]  # a Select
        task = ManualTaskRow
        sibling_mine = exists().where(and_(
            TaskLeaseRow.frame_id == task.frame_id, TaskLeaseRow.task_id != task.task_id,
            TaskLeaseRow.annotator == annotator))
        skipped_by_me = exists().where(and_(
            TaskLeaseRow.task_id == task.task_id, TaskLeaseRow.annotator == annotator,
            TaskLeaseRow.outcome == "skipped"))
        least_first = [case(evidence, value=task.stratum, else_=0)] if evidence else []  # no evidence: all equal
        query = (select(task).where(task.state.in_(LEASABLE_STATES), ~sibling_mine, ~skipped_by_me)
                 .order_by(*least_first, task.created_at, task.id).limit(1))
        return query.with_for_update(of=task, skip_locked=True) if self._postgres else query

    def _held(self, session: Session, annotator: str, task_id: str, now: float) -> ManualTaskRow:
        query = select(ManualTaskRow).where(ManualTaskRow.task_id == task_id)
        row = session.scalar(query.with_for_update() if self._postgres else query)
        if row is None or row.lease_owner != annotator:
            if row is not None and self._ever_held(session, task_id, annotator):
                raise LeaseLost(task_id, "your lease ran out and the task went back to the queue")
            raise NotYourTask(task_id, "no such task leased to you")
        if row.state != TaskState.LEASED.value:
            raise LeaseLost(task_id, f"the task is {row.state}, not leased to you")
        if row.lease_deadline is not None and row.lease_deadline < now:
            raise LeaseLost(task_id, f"your lease ran out {now - row.lease_deadline:.1f} s ago; "
                                     "the task goes back to the queue")
        return row

    @staticmethod
    def _ever_held(session: Session, task_id: str, annotator: str) -> bool:
        return bool(session.scalar(select(exists().where(
            TaskLeaseRow.task_id == task_id, TaskLeaseRow.annotator == annotator))))

    def _sweep(self, session: Session, now: float) -> list[Expired]:
        query = select(ManualTaskRow).where(
            ManualTaskRow.state == TaskState.LEASED.value, ManualTaskRow.lease_deadline < now)
        rows = session.scalars(query.with_for_update(skip_locked=True) if self._postgres else query).all()
        expired = []
        for row in rows:
            owner = row.lease_owner or ""
            transition(row.task_id, transition(row.task_id, row.state, TaskState.EXPIRED), TaskState.REQUEUED)
            row.state, row.expiries = TaskState.REQUEUED.value, row.expiries + 1
            row.lease_owner, row.lease_deadline, row.updated_at = None, None, now
            self._close_lease(session, row.task_id, owner, now, "expired")
            expired.append(Expired(row.task_id, row.stratum, owner))
        return expired

    @staticmethod
    def _close_lease(session: Session, task_id: str, annotator: str, now: float, outcome: str,
                     reason: str | None = None) -> None:
        lease = session.scalar(select(TaskLeaseRow).where(
            TaskLeaseRow.task_id == task_id, TaskLeaseRow.annotator == annotator, TaskLeaseRow.outcome.is_(None)))
        if lease is not None:
            lease.ended_at, lease.outcome, lease.reason = now, outcome, reason


def _begin_immediate(connection: Connection, deadline: float | None) -> None:
    """Take SQLite's write lock now, waiting for another connection's until ``deadline`` at most (None: the
    engine's busy timeout); the connection keeps the engine's busy timeout for its other uses."""
    if deadline is None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    (busy_ms,) = connection.exec_driver_sql("PRAGMA busy_timeout").one()
    connection.exec_driver_sql(f"PRAGMA busy_timeout={max(1, round((deadline - time.monotonic()) * 1000))}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_ms)}")


def _lease(row: ManualTaskRow) -> Lease:
    return Lease(task_id=row.task_id, frame_id=row.frame_id, image=row.image, copy=row.copy, stratum=row.stratum,
                 lease_deadline=float(row.lease_deadline or 0.0), attempts=row.attempts, clip=row.clip)


def _check_fits(task_id: str, clip: dict[str, Any] | None, frames: Sequence[AnnotatedFrame] | None) -> None:
    """A clip task's answer lists objects by frame index within the clip (each index once); a frame's does not."""
    if clip is None:
        if frames is not None:
            raise AnswerMismatch(task_id, "a frame's task takes annotations, not clip_frames")
        return
    if frames is None:
        raise AnswerMismatch(task_id, "a clip's task takes clip_frames: the objects of each of its frames")
    length = len(clip["frames"])
    indices = [f.frame_index for f in frames]
    outside = [i for i in indices if i >= length]
    if outside:
        raise AnswerMismatch(task_id, f"clip_frames: frame_index {outside[0]} outside the clip's {length} frames "
                                      f"(0 to {length - 1})")
    if len(set(indices)) != len(indices):
        raise AnswerMismatch(task_id, "clip_frames: each frame_index at most once")
