"""The queue as a tool sees it: a bridge that holds tasks for people who work in another tool (Label Studio).

The tool leases every open copy of a frame at once (so the other tool can give the copies to different people
itself), renews its leases while the tasks are open there, and relays each person's answer: the tool's lease
ends ``handed_over``, the person gets a lease of their own in the log (from when they began to when they
answered), and the answer is recorded as theirs. The queue's rules hold for the person as for anyone: never
both copies of a frame, never a task they skipped. A skip sends the copy back to the queue (``requeued``).

Each relayed answer carries a reference (the other tool's id for it): the same answer brought twice, by a
webhook and by a poll, is recorded once (:class:`AlreadyRecorded`); an answer no copy can take is recorded as
refused, with the reason, so it is reported once and not retried for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.api.exceptions import AlreadyRecorded
from services.api.queue import LEASABLE_STATES, Lease, Queue, _lease
from services.db.models import ExternalRefRow, ManualAnnotationRow, ManualTaskRow, TaskLeaseRow
from services.db.states import TaskState, transition
from services.loop.messages import AnnotatedObject

Outcome = Literal["submitted", "skipped", "refused"]
SCAN_FACTOR = 4  # tasks read per frame wanted when grouping leasable tasks by frame


@dataclass(frozen=True)
class Answer:
    """A person's answer from the other tool: boxes and tags, or a skip (``skipped=True``, with ``reason``)."""

    person: str
    ref: str  # the other tool's id for this answer (idempotency key)
    objects: Sequence[AnnotatedObject] = ()
    tags: dict[str, str] | None = None
    skipped: bool = False
    reason: str = ""
    began_at: float | None = None  # when the person opened it (their lease starts then); None: at the answer


@dataclass(frozen=True)
class Relayed:
    """What became of an answer: the task it went to (None if refused), and the outcome."""

    task_id: str | None
    outcome: Outcome
    reason: str | None = None


class ToolQueue(Queue):
    """:class:`Queue` plus the operations of a tool holding tasks for people elsewhere."""

    def claim_frames(self, holder: str, frames: int, lease_s: float,
                     prefer: Sequence[str] = ()) -> list[list[Lease]]:
        """Every leasable copy of the ``prefer`` frames, then of up to ``frames`` more frames, leased to ``holder``;
        grouped by frame, the others least evidence first (the order people get tasks in)."""
        now = self._clock()
        with self._write() as session:
            gone = self._sweep(session, now)
            self._serialize(session, holder)
            chosen = [*dict.fromkeys(prefer), *self._frames(session, frames, set(prefer))]
            groups: list[list[Lease]] = []
            for frame_id in chosen:
                query = select(ManualTaskRow).where(ManualTaskRow.frame_id == frame_id,
                                                    ManualTaskRow.state.in_(LEASABLE_STATES))
                rows = session.scalars(query.order_by(ManualTaskRow.copy).with_for_update(skip_locked=True)
                                       if self._postgres else query.order_by(ManualTaskRow.copy)).all()
                for row in rows:
                    row.state = transition(row.task_id, row.state, TaskState.LEASED).value
                    row.lease_owner, row.lease_deadline = holder, now + lease_s
                    row.attempts += 1
                    row.updated_at = now
                    session.add(TaskLeaseRow(task_id=row.task_id, frame_id=row.frame_id, annotator=holder,
                                             leased_at=now))
                if rows:
                    groups.append([_lease(row) for row in rows])
        self._report(gone)
        return groups

    def _frames(self, session: Session, frames: int, skip: set[str]) -> list[str]:
        """Up to ``frames`` frame ids (not in ``skip``) with a leasable copy, in the order :meth:`Queue.claim` serves
        tasks."""
        if frames <= 0:
            return []
        order = self._next("", self.evidence.counts(session)).with_only_columns(ManualTaskRow.frame_id)
        chosen: list[str] = []
        for frame_id in session.scalars(order.limit((frames + len(skip)) * SCAN_FACTOR)):
            if frame_id not in chosen and frame_id not in skip:
                chosen.append(frame_id)
            if len(chosen) == frames:
                break
        return chosen

    def renew(self, holder: str, task_ids: Sequence[str], lease_s: float) -> set[str]:
        """Extend ``holder``'s leases of ``task_ids`` to ``lease_s`` from now; the ids it still held (the others ran
        out, or went elsewhere)."""
        now = self._clock()
        with self._write() as session:
            rows = session.scalars(select(ManualTaskRow).where(
                ManualTaskRow.task_id.in_(list(task_ids)), ManualTaskRow.state == TaskState.LEASED.value,
                ManualTaskRow.lease_owner == holder, ManualTaskRow.lease_deadline >= now)).all()
            for row in rows:
                row.lease_deadline, row.updated_at = now + lease_s, now
            return {row.task_id for row in rows}

    def release(self, holder: str, task_ids: Sequence[str], reason: str) -> list[str]:
        """Give ``holder``'s leases of ``task_ids`` back to the queue (``requeued``); the ids it gave back."""
        now = self._clock()
        with self._write() as session:
            rows = session.scalars(select(ManualTaskRow).where(
                ManualTaskRow.task_id.in_(list(task_ids)), ManualTaskRow.state == TaskState.LEASED.value,
                ManualTaskRow.lease_owner == holder)).all()
            for row in rows:
                row.state = transition(row.task_id, row.state, TaskState.REQUEUED).value
                row.lease_owner, row.lease_deadline, row.updated_at = None, None, now
                self._close_lease(session, row.task_id, holder, now, "released", reason)
            return [row.task_id for row in rows]

    def held_by(self, holder: str) -> list[Lease]:
        """``holder``'s leases (running or run out but not yet swept)."""
        return self.mine(holder)

    def recorded(self, ref: str) -> bool:
        """Whether the answer ``ref`` was recorded (submitted, skipped or refused)."""
        with self._sessions() as session:
            return session.get(ExternalRefRow, ref) is not None

    def relay(self, holder: str, frame_id: str, answer: Answer) -> Relayed:
        """Record ``answer`` on a copy of ``frame_id`` that ``holder`` holds and the person may take.

        Raises :class:`AlreadyRecorded` when ``answer.ref`` was recorded before. When no copy can take it (the
        bridge's lease ran out, the person did the other copy), the refusal is recorded and returned."""
        now = self._clock()
        try:
            with self._write() as session:
                if session.get(ExternalRefRow, answer.ref) is not None:
                    raise AlreadyRecorded(answer.ref, "this answer was recorded before")
                row, why = self._copy_for(session, holder, frame_id, answer.person, now)
                if row is None:
                    outcome = Relayed(None, "refused", why)
                else:
                    outcome = self._hand_over(session, row, holder, answer, now)
                session.add(ExternalRefRow(ref=answer.ref, task_id=outcome.task_id, annotator=answer.person,
                                           outcome=outcome.outcome, reason=outcome.reason, recorded_at=now))
        except IntegrityError:  # the same answer, recorded meanwhile by another process (webhook and poll)
            raise AlreadyRecorded(answer.ref, "this answer was recorded meanwhile") from None
        if outcome.outcome == "submitted" and row is not None:
            self.evidence.add(row.stratum)
        return outcome

    def refuse(self, ref: str, person: str, reason: str) -> Relayed:
        """Record that the answer ``ref`` was refused for itself (unreadable, out of bounds): reported once."""
        try:
            with self._write() as session:
                if session.get(ExternalRefRow, ref) is not None:
                    raise AlreadyRecorded(ref, "this answer was recorded before")
                session.add(ExternalRefRow(ref=ref, task_id=None, annotator=person, outcome="refused", reason=reason,
                                           recorded_at=self._clock()))
        except IntegrityError:
            raise AlreadyRecorded(ref, "this answer was recorded meanwhile") from None
        return Relayed(None, "refused", reason)

    def _copy_for(self, session: Session, holder: str, frame_id: str, person: str,
                  now: float) -> tuple[ManualTaskRow | None, str]:
        """A copy of ``frame_id`` leased to ``holder`` that ``person`` may take, locked; or None and why not."""
        query = select(ManualTaskRow).where(ManualTaskRow.frame_id == frame_id).order_by(ManualTaskRow.copy)
        rows = session.scalars(query.with_for_update() if self._postgres else query).all()
        held = [r for r in rows if r.state == TaskState.LEASED.value and r.lease_owner == holder
                and (r.lease_deadline is None or r.lease_deadline >= now)]
        if not held:
            return None, (f"the bridge holds no copy of frame {frame_id} any more (its lease ran out or the task "
                          "was given back), so the answer came too late")
        answered = {task_id: outcome for task_id, outcome in session.execute(
            select(TaskLeaseRow.task_id, TaskLeaseRow.outcome).where(
                TaskLeaseRow.frame_id == frame_id, TaskLeaseRow.annotator == person,
                TaskLeaseRow.outcome.in_(("submitted", "skipped"))))}
        if "submitted" in answered.values():
            return None, (f"{person} already answered a copy of frame {frame_id}; the copies of a frame go to "
                          "different people")
        free = [r for r in held if r.task_id not in answered]
        if not free:
            return None, f"{person} skipped this task before; it goes to someone else"
        return free[0], ""

    def _hand_over(self, session: Session, row: ManualTaskRow, holder: str, answer: Answer, now: float) -> Relayed:
        self._close_lease(session, row.task_id, holder, now, "handed_over")
        began = now if answer.began_at is None else min(now, answer.began_at)
        session.add(TaskLeaseRow(task_id=row.task_id, frame_id=row.frame_id, annotator=answer.person,
                                 leased_at=began))
        session.flush()
        if answer.skipped:
            row.state = transition(row.task_id, row.state, TaskState.REQUEUED).value
            row.lease_owner, row.lease_deadline, row.updated_at = None, None, now
            self._close_lease(session, row.task_id, answer.person, now, "skipped", answer.reason or None)
            return Relayed(row.task_id, "skipped", answer.reason or None)
        row.state = transition(row.task_id, row.state, TaskState.SUBMITTED).value
        row.lease_owner, row.lease_deadline, row.updated_at = answer.person, None, now
        self._close_lease(session, row.task_id, answer.person, now, "submitted")
        session.add(ManualAnnotationRow(
            task_id=row.task_id, annotator=answer.person, objects=[o.model_dump(mode="json") for o in answer.objects],
            tags=dict(answer.tags or {}), submitted_at=now, published_at=None))
        return Relayed(row.task_id, "submitted")


__all__ = ["Answer", "Relayed", "ToolQueue"]
