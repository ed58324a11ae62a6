"""The queue as a tool holding tasks for people elsewhere (services/api/queue_tools.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from services.api.exceptions import AlreadyRecorded
from services.api.queue import QueueConfig
from services.api.queue_tools import Answer, ToolQueue
from services.db.engine import session_factory
from services.db.models import ExternalRefRow
from services.db.states import TaskState
from services.loop.messages import AnnotatedObject
from tests.services.api.helpers import FakeClock, add_tasks, answers, frame_tasks, leases, task

TOOL = "labelstudio-bridge"
BOX = AnnotatedObject(bbox=(1.0, 2.0, 30.0, 40.0), category_id=1, attributes={})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(engine: Engine, clock: FakeClock) -> ToolQueue:
    add_tasks(engine, [*frame_tasks(1, copies=2), *frame_tasks(2), *frame_tasks(3, copies=2)])
    return ToolQueue(engine, QueueConfig(lease_s=60.0), clock=clock)


def test_a_tool_takes_every_copy_of_each_frame_and_people_cannot_claim_them(queue: ToolQueue) -> None:
    groups = queue.claim_frames(TOOL, 2, lease_s=60.0)
    assert [[lease.copy for lease in group] for group in groups] == [[1, 2], [1]]
    assert {group[0].frame_id for group in groups} == {"driving-s0-000001", "driving-s0-000002"}
    remaining = queue.claim("anna")
    assert remaining is not None and remaining.frame_id == "driving-s0-000003"


def test_preferred_frames_come_first_and_do_not_count_against_the_limit(queue: ToolQueue) -> None:
    groups = queue.claim_frames(TOOL, 1, lease_s=60.0, prefer=["driving-s0-000003"])
    assert [g[0].frame_id for g in groups] == ["driving-s0-000003", "driving-s0-000001"]


def test_a_relayed_answer_is_the_persons_submission_and_the_lease_log_shows_the_hand_over(
        queue: ToolQueue, engine: Engine, clock: FakeClock) -> None:
    (group,) = queue.claim_frames(TOOL, 1, lease_s=60.0)
    clock.advance(30)
    done = queue.relay(TOOL, group[0].frame_id, Answer(person="ls:7", ref="ls-x:annotation:1", objects=[BOX],
                                                        tags={"weather": "rain"}, began_at=clock.now - 12))
    assert done.outcome == "submitted" and done.task_id == group[0].task_id
    with session_factory(engine)() as session:
        (answer,) = answers(session)
        assert (answer.annotator, answer.tags, answer.objects[0]["geometry"]["xywh"]) == (
            "ls:7", {"weather": "rain"}, [1.0, 2.0, 30.0, 40.0])
        log = [(r.annotator, r.outcome, r.ended_at - r.leased_at) for r in leases(session, done.task_id)]
        assert log == [(TOOL, "handed_over", 30.0), ("ls:7", "submitted", 12.0)]
        assert task(session, done.task_id).state == TaskState.SUBMITTED.value


def test_the_same_answer_twice_is_recorded_once(queue: ToolQueue, engine: Engine) -> None:
    (group,) = queue.claim_frames(TOOL, 1, lease_s=60.0)
    answer = Answer(person="ls:7", ref="ls-x:annotation:1", objects=[BOX])
    queue.relay(TOOL, group[0].frame_id, answer)
    with pytest.raises(AlreadyRecorded):
        queue.relay(TOOL, group[0].frame_id, answer)
    with session_factory(engine)() as session:
        assert len(answers(session)) == 1
        assert task(session, group[1].task_id).state == TaskState.LEASED.value  # the second copy untouched


def test_the_copies_of_a_frame_go_to_different_people(queue: ToolQueue, engine: Engine) -> None:
    (group,) = queue.claim_frames(TOOL, 1, lease_s=60.0)
    frame = group[0].frame_id
    assert queue.relay(TOOL, frame, Answer(person="ls:7", ref="r1", objects=[BOX])).outcome == "submitted"
    again = queue.relay(TOOL, frame, Answer(person="ls:7", ref="r2", objects=[BOX]))
    assert again.outcome == "refused" and again.reason is not None and "different people" in again.reason
    other = queue.relay(TOOL, frame, Answer(person="ls:8", ref="r3", objects=[BOX]))
    assert other.outcome == "submitted" and other.task_id == group[1].task_id
    with session_factory(engine)() as session:
        assert session.get(ExternalRefRow, "r2").outcome == "refused"  # type: ignore[union-attr]


def test_a_skip_requeues_the_copy_and_its_person_never_gets_it(queue: ToolQueue, engine: Engine) -> None:
    groups = queue.claim_frames(TOOL, 2, lease_s=60.0)
    single = groups[1][0]
    done = queue.relay(TOOL, single.frame_id, Answer(person="ls:7", ref="r1", skipped=True, reason="blurred"))
    assert done.outcome == "skipped"
    with session_factory(engine)() as session:
        assert task(session, single.task_id).state == TaskState.REQUEUED.value
    assert queue.claim_frames(TOOL, 0, lease_s=60.0, prefer=[single.frame_id])[0][0].task_id == single.task_id
    refused = queue.relay(TOOL, single.frame_id, Answer(person="ls:7", ref="r2", objects=[BOX]))
    assert refused.outcome == "refused" and "skipped" in (refused.reason or "")
    assert queue.relay(TOOL, single.frame_id, Answer(person="ls:8", ref="r3", objects=[BOX])).outcome == "submitted"


def test_renewal_keeps_leases_and_an_answer_after_the_lease_is_refused(queue: ToolQueue, clock: FakeClock) -> None:
    (group,) = queue.claim_frames(TOOL, 1, lease_s=60.0)
    ids = [lease.task_id for lease in group]
    clock.advance(50)
    assert queue.renew(TOOL, ids, 60.0) == set(ids)
    clock.advance(50)  # 100 s after the claim, 50 after the renewal: still held
    assert queue.renew(TOOL, ids, 60.0) == set(ids)
    clock.advance(61)
    assert queue.renew(TOOL, ids, 60.0) == set()
    late = queue.relay(TOOL, group[0].frame_id, Answer(person="ls:7", ref="r1", objects=[BOX]))
    assert late.outcome == "refused" and "too late" in (late.reason or "")
    queue.sweep()
    assert queue.claim("anna") is not None  # back in the queue for anyone


def test_release_gives_the_copies_back(queue: ToolQueue, engine: Engine) -> None:
    (group,) = queue.claim_frames(TOOL, 1, lease_s=60.0)
    ids = [lease.task_id for lease in group]
    assert sorted(queue.release(TOOL, ids, "deleted in Label Studio")) == sorted(ids)
    with session_factory(engine)() as session:
        assert [r.outcome for r in leases(session, ids[0])] == ["released"]
        assert task(session, ids[0]).state == TaskState.REQUEUED.value
