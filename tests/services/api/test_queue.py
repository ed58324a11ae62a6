"""The queue's rules, on SQLite and PostgreSQL, with a clock the test moves: leases, expiry, skips, copies, order."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update

from services.api.exceptions import LeaseLost, NotYourTask, TooManyLeases
from services.api.queue import EVIDENCE_MAX_AGE_S, Evidence, Expired, Queue, QueueConfig
from services.db.engine import session_factory
from services.db.models import ManualTaskRow
from services.db.states import TaskState
from services.loop.messages import AnnotatedObject
from tests.services.api.helpers import (
    FakeClock,
    add_tasks,
    answers,
    frame_tasks,
    leases,
    manual_task,
    task,
)

BOX = [AnnotatedObject(bbox=(1.0, 2.0, 3.0, 4.0), category_id=2, attributes={})]


def _queue(engine: Engine, clock: FakeClock, *, lease_s: float = 10.0, max_leases: int = 1) -> Queue:
    return Queue(engine, QueueConfig(lease_s=lease_s, max_leases=max_leases), clock=clock)


def test_claim_then_submit_moves_the_task_through_its_states_and_logs_the_lease(engine: Engine) -> None:
    clock = FakeClock()
    (tid,) = add_tasks(engine, [manual_task(1)])
    queue = _queue(engine, clock)
    lease = queue.claim("ann")
    assert lease is not None and lease.task_id == tid and lease.copy == 1
    assert lease.lease_deadline == clock.now + 10.0 and lease.attempts == 1
    with session_factory(engine)() as s:
        row = task(s, tid)
        assert (row.state, row.lease_owner, row.lease_deadline) == (TaskState.LEASED, "ann", clock.now + 10.0)
        assert [(x.annotator, x.leased_at, x.outcome) for x in leases(s, tid)] == [("ann", clock.now, None)]
    assert queue.claim("other") is None, "a leased task is nobody else's"
    clock.advance(3)
    answer = queue.submit("ann", tid, BOX, {"weather": "rain"})
    assert (answer.annotator, answer.submitted_at) == ("ann", clock.now)
    with session_factory(engine)() as s:
        row = task(s, tid)
        assert (row.state, row.lease_deadline, row.expiries) == (TaskState.SUBMITTED, None, 0)
        assert [(x.outcome, x.ended_at) for x in leases(s, tid)] == [("submitted", clock.now)]
        (stored,) = answers(s)
        assert (stored.task_id, stored.objects, stored.tags) == (tid, [BOX[0].model_dump(mode="json")],
                                                                  {"weather": "rain"})
    with pytest.raises(LeaseLost):
        queue.submit("ann", tid, BOX, {})
    assert queue.claim("other") is None and queue.claim("ann") is None


def test_an_expired_lease_is_requeued_exactly_once_however_often_it_is_swept(engine: Engine) -> None:
    clock = FakeClock()
    (tid,) = add_tasks(engine, [manual_task(1)])
    queue = _queue(engine, clock)
    assert queue.claim("walks-away") is not None
    clock.advance(10.0)
    assert queue.sweep() == [], "at the deadline the lease still holds"
    clock.advance(0.5)
    (gone,) = queue.sweep()
    assert (gone.task_id, gone.annotator, gone.stratum) == (tid, "walks-away", "all")
    assert queue.sweep() == []
    clock.advance(100)
    assert queue.sweep() == []
    with session_factory(engine)() as s:
        row = task(s, tid)
        assert (row.state, row.expiries, row.lease_owner) == (TaskState.REQUEUED, 1, None)
        assert [(x.outcome, x.ended_at) for x in leases(s, tid)] == [("expired", clock.now - 100)]
    lease = queue.claim("next")
    assert lease is not None and lease.task_id == tid and lease.attempts == 2


def test_a_claim_sweeps_expired_leases_itself(engine: Engine) -> None:
    clock = FakeClock()
    (tid,) = add_tasks(engine, [manual_task(1)])
    queue = _queue(engine, clock)
    queue.claim("a")
    clock.advance(11)
    lease = queue.claim("b")
    assert lease is not None and lease.task_id == tid
    assert queue.sweep() == []
    with session_factory(engine)() as s:
        assert task(s, tid).expiries == 1
        assert [(x.annotator, x.outcome) for x in leases(s, tid)] == [("a", "expired"), ("b", None)]


@pytest.mark.parametrize("swept", [False, True], ids=["before the sweep", "after the sweep"])
def test_a_submission_or_heartbeat_after_the_deadline_is_refused(engine: Engine, swept: bool) -> None:
    clock = FakeClock()
    (tid,) = add_tasks(engine, [manual_task(1)])
    queue = _queue(engine, clock)
    queue.claim("late")
    clock.advance(10.5)
    if swept:
        assert len(queue.sweep()) == 1
    with pytest.raises(LeaseLost) as late:
        queue.submit("late", tid, BOX, {})
    assert late.value.status == 409
    with pytest.raises(LeaseLost):
        queue.heartbeat("late", tid)
    with session_factory(engine)() as s:
        assert answers(s) == []
    assert len(queue.sweep()) == (0 if swept else 1)


def test_a_heartbeat_extends_the_lease_from_now(engine: Engine) -> None:
    clock = FakeClock()
    (tid,) = add_tasks(engine, [manual_task(1)])
    queue = _queue(engine, clock)
    queue.claim("steady")
    clock.advance(8)
    assert queue.heartbeat("steady", tid).lease_deadline == clock.now + 10.0
    clock.advance(5)  # past the first deadline, within the extended one
    assert queue.sweep() == []
    queue.submit("steady", tid, BOX, {})
    with session_factory(engine)() as s:
        assert task(s, tid).state == TaskState.SUBMITTED


def test_someone_elses_task_is_not_found(engine: Engine) -> None:
    clock = FakeClock()
    (tid,) = add_tasks(engine, [manual_task(1)])
    queue = _queue(engine, clock)
    queue.claim("owner")
    for step in (lambda: queue.heartbeat("intruder", tid), lambda: queue.submit("intruder", tid, BOX, {}),
                 lambda: queue.skip("intruder", tid, "no"), lambda: queue.held("intruder", tid),
                 lambda: queue.held("owner", "no-such-task")):
        with pytest.raises(NotYourTask) as caught:
            step()
        assert caught.value.status == 404
    assert [lease.task_id for lease in queue.mine("owner")] == [tid] and queue.mine("intruder") == []


def test_a_skipped_task_is_never_offered_to_the_same_person_again(engine: Engine) -> None:
    clock = FakeClock()
    (tid,) = add_tasks(engine, [manual_task(1)])
    queue = _queue(engine, clock)
    queue.claim("picky")
    queue.skip("picky", tid, "image is black")
    with session_factory(engine)() as s:
        assert task(s, tid).state == TaskState.REQUEUED
        assert [(x.outcome, x.reason) for x in leases(s, tid)] == [("skipped", "image is black")]
    assert queue.claim("picky") is None
    lease = queue.claim("other")
    assert lease is not None and lease.task_id == tid
    clock.advance(11)  # even after the other's lease runs out
    assert queue.claim("picky") is None
    assert queue.claim("third") is not None


def test_the_consensus_copy_never_goes_to_whoever_had_the_first_copy(engine: Engine) -> None:
    clock = FakeClock()
    first, second = add_tasks(engine, frame_tasks(1, copies=2))
    queue = _queue(engine, clock, max_leases=2)
    lease = queue.claim("a")
    assert lease is not None and lease.task_id == first
    assert queue.claim("a") is None, "a may hold two tasks, but not both copies of a frame"
    queue.submit("a", first, BOX, {})
    assert queue.claim("a") is None
    lease = queue.claim("b")
    assert lease is not None and lease.task_id == second and lease.copy == 2


def test_a_copy_someone_let_expire_still_keeps_the_other_copy_from_them(engine: Engine) -> None:
    clock = FakeClock()
    first, second = add_tasks(engine, frame_tasks(1, copies=2))
    queue = _queue(engine, clock)
    queue.claim("a")
    clock.advance(11)
    assert queue.sweep() != []
    lease = queue.claim("a")  # the same copy again: allowed, it is still theirs to do
    assert lease is not None and lease.task_id == first
    queue.submit("a", first, BOX, {})
    assert queue.claim("a") is None
    lease = queue.claim("b")
    assert lease is not None and lease.task_id == second


def test_the_stratum_with_the_least_evidence_is_served_first_then_the_oldest_task(engine: Engine) -> None:
    clock = FakeClock()
    add_tasks(engine, [manual_task(i, stratum="weather=rain", time=float(i)) for i in (1, 2, 3)]
              + [manual_task(i, stratum="weather=fog", time=float(i)) for i in (5, 4)])
    queue = _queue(engine, clock, max_leases=10)

    def next_one(who: str) -> str:
        lease = queue.claim(who)
        assert lease is not None
        queue.submit(who, lease.task_id, BOX, {})
        return lease.task_id

    # no evidence anywhere: the oldest task; then always the stratum with fewer submissions, oldest task first
    order = [next_one(f"p{k}") for k in range(5)]
    assert order == [f"driving-s0-00000{i}/1" for i in (1, 4, 2, 5, 3)]


def test_other_replicas_submissions_reach_the_order_within_the_evidence_age(engine: Engine) -> None:
    """The counts are not re-read at every claim (that made a claim's cost grow with the history): this replica's
    submissions count at once, another's once the counts are older than EVIDENCE_MAX_AGE_S."""
    add_tasks(engine, [manual_task(i, stratum="weather=rain", time=float(i)) for i in (1, 2, 3)]
              + [manual_task(i, stratum="weather=fog", time=float(i)) for i in (4, 5, 6)])
    queue, age = _queue(engine, FakeClock(), max_leases=10), FakeClock()
    queue.evidence = Evidence(clock=age)

    def next_one() -> str:
        lease = queue.claim("a")
        assert lease is not None
        queue.submit("a", lease.task_id, BOX, {})
        return lease.task_id

    assert next_one() == "driving-s0-000001/1"  # nothing submitted: the oldest; rain has 1 now
    with session_factory(engine)() as s, s.begin():  # another replica submits two fog tasks
        s.execute(update(ManualTaskRow).where(ManualTaskRow.task_id.in_(["driving-s0-000004/1", "driving-s0-000005/1"]))
                  .values(state=TaskState.SUBMITTED.value))
    assert next_one() == "driving-s0-000006/1", "fog still looks empty here: its submissions are not counted yet"
    age.advance(EVIDENCE_MAX_AGE_S)
    assert next_one() == "driving-s0-000002/1", "re-counted: rain 1, fog 3"


def test_an_annotator_holds_at_most_max_leases_tasks(engine: Engine) -> None:
    clock = FakeClock()
    add_tasks(engine, [manual_task(i) for i in range(1, 5)])
    queue = _queue(engine, clock, max_leases=2)
    first, second = queue.claim("busy"), queue.claim("busy")
    assert first is not None and second is not None
    with pytest.raises(TooManyLeases) as caught:
        queue.claim("busy")
    assert caught.value.status == 409
    queue.skip("busy", first.task_id, "later")
    assert queue.claim("busy") is not None
    assert len(queue.mine("busy")) == 2


def test_a_batch_leases_up_to_its_size_never_both_copies_of_a_frame(engine: Engine) -> None:
    clock = FakeClock()
    add_tasks(engine, frame_tasks(1, copies=2) + frame_tasks(2, copies=2) + frame_tasks(3))
    queue = _queue(engine, clock)
    batch = queue.claim_batch("team", 10, 3600.0)
    assert sorted(lease.task_id for lease in batch) == ["driving-s0-000001/1", "driving-s0-000002/1",
                                                        "driving-s0-000003/1"]
    assert {lease.lease_deadline for lease in batch} == {clock.now + 3600.0}
    assert queue.claim_batch("team", 10, 3600.0) == []
    assert len(queue.claim_batch("other-team", 1, 60.0)) == 1


def test_a_lease_starts_after_the_previous_one_ended_even_if_the_claim_read_its_clock_first(engine: Engine) -> None:
    """A claim that read the time, then found a lease another process had just expired (at a later time), must
    not log its lease as starting before the other ended: the lease log would show two holders at once."""
    clock = FakeClock()
    (tid,) = add_tasks(engine, [manual_task(1)])
    _queue(engine, clock).claim("a")
    clock.advance(11)
    sweeper = _queue(engine, FakeClock(clock.now + 1.0))  # another replica's sweeper, a second later
    reads: list[float] = []

    def claim_clock() -> float:
        if not reads:  # the other replica commits between this claim's clock read and its transaction
            assert len(sweeper.sweep()) == 1
            reads.append(clock.now)
        else:  # from then on the claim's clock reads the later time too
            reads.append(sweeper._clock())
        return reads[-1]

    lease = Queue(engine, QueueConfig(lease_s=10.0), clock=claim_clock).claim("b")
    assert lease is not None and lease.task_id == tid
    with session_factory(engine)() as s:
        before, after = leases(s, tid)
    assert (before.annotator, before.outcome, after.annotator) == ("a", "expired", "b")
    assert before.ended_at is not None and before.ended_at <= after.leased_at
    assert lease.lease_deadline == after.leased_at + 10.0


def test_every_expiry_is_reported_once_whoever_finds_it(engine: Engine) -> None:
    clock, heard = FakeClock(), list[Expired]()
    add_tasks(engine, [manual_task(i) for i in (1, 2, 3, 4)])
    queue = Queue(engine, QueueConfig(lease_s=10.0), clock=clock, on_expired=heard.extend)
    queue.claim("a")
    clock.advance(5)
    queue.claim("b")
    clock.advance(6)  # a's lease has run out, b's not
    with pytest.raises(TooManyLeases):
        queue.claim("b")  # its sweep found a's lease, but the claim failed: rolled back, not reported
    assert heard == []
    assert [e.annotator for e in queue.sweep()] == ["a"]
    clock.advance(5)
    assert queue.claim("c") is not None  # finds b's lease run out
    clock.advance(11)
    assert len(queue.claim_batch("team", 1, 60.0)) == 1  # finds c's
    assert queue.sweep() == []
    assert [e.annotator for e in heard] == ["a", "b", "c"]
