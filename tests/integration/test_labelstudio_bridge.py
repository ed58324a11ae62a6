"""The bridge against a real Label Studio (from PyPI, on loopback) and shadowqa's queue on PostgreSQL.

What a person does in the labelling page is done here through Label Studio's REST API as its admin (the page
itself is driven in test_labelstudio_e2e.py): an annotation made there is the same row, fires the same webhook.
Each test has its own server (a copy of the set-up template: seconds) and its own database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from services.db.engine import session_factory
from services.db.models import ExternalRefRow, ManualAnnotationRow, ManualTaskRow, TaskLeaseRow
from services.db.states import TaskState
from services.infra import labelstudio
from services.infra.labelstudio import LabelStudioServer
from services.labelstudio import ingest
from services.labelstudio.client import server_key
from services.labelstudio.ingest import BRIDGE
from services.labelstudio.metrics import PeopleNames
from services.labelstudio.store import TaskMap
from tests.services.api.helpers import add_tasks, frame_tasks
from tests.utils.db import migrated_engine
from tests.utils.labelstudio_env import Admin, api_server, black_hole, box_result, make_bridge, wait_for

pytestmark = pytest.mark.slow
WIDTH, HEIGHT = 320, 192  # the synthetic driving frames' size
SHADOWQA = Path(sys.executable).with_name("shadowqa")


@pytest.fixture
def server() -> Iterator[LabelStudioServer]:
    with labelstudio.throwaway() as running:
        yield running


@pytest.fixture
def db(postgres_url: str) -> Iterator[Engine]:
    yield from migrated_engine(postgres_url)


def _rows(engine: Engine, model: type) -> list:  # type: ignore[type-arg]
    with session_factory(engine)() as session:
        return list(session.scalars(select(model)).all())


def _answers(engine: Engine) -> list[ManualAnnotationRow]:
    return sorted(_rows(engine, ManualAnnotationRow), key=lambda a: a.id)


def _counted(via: str, outcome: str) -> float:
    return ingest.ANSWERS.labels(via=via, outcome=outcome)._value.get()


def test_an_annotation_comes_back_by_webhook_at_once_in_pixels_and_consensus_copies_go_to_two_people(
        server: LabelStudioServer, db: Engine) -> None:
    add_tasks(db, [*frame_tasks(1, copies=2), *frame_tasks(2)])
    with api_server(db, server.url) as api:
        bridge = make_bridge(server, db, api)
        assert bridge.round().created == 2
        admin = Admin(server)
        (pair, single) = bridge.tasks.open_tasks()
        assert admin.task(pair.ls_task_id)["overlap"] == 2 and admin.task(single.ls_task_id)["overlap"] == 1

        assert PeopleNames(server.url, server.token)() == {"ls:1": server.username}  # for --metrics-names
        image = httpx.get(admin.task(single.ls_task_id)["data"]["image"], timeout=30)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.headers["access-control-allow-origin"] == "*"

        before = _counted("webhook", "submitted")
        admin.annotate(single.ls_task_id, [
            box_result(64, 72, 192, 36, "car", WIDTH, HEIGHT),
            {"id": "r1", "type": "choices", "from_name": "occluded", "to_name": "image",
             "value": {"choices": ["true"]}},
            {"id": "t", "type": "choices", "from_name": "weather", "to_name": "image", "value": {"choices": ["rain"]}},
        ])
        # the webhook recorded it before Label Studio's answer to the annotator: no bridge round in between
        (answer,) = _answers(db)
        assert answer.task_id == "driving-s0-000002/1" and answer.annotator.startswith("ls:")
        (box,) = answer.objects
        assert box["geometry"]["xywh"] == pytest.approx([64, 72, 192, 36], abs=1e-6)
        assert (box["category_id"], box["attributes"], answer.tags) == (1, {"occluded": "true"}, {"weather": "rain"})
        assert _counted("webhook", "submitted") == before + 1

        done = bridge.round()  # the poll sees it too, and records nothing twice
        assert dict(done.relayed) == {} and len(_answers(db)) == 1
        assert done.closed == 1  # every copy of that frame answered: closed, left in Label Studio as done

        # the consensus pair: Label Studio gives each copy to a different person; the same person twice is refused
        first = admin.annotate(pair.ls_task_id, [box_result(10, 10, 50, 50, "car", WIDTH, HEIGHT)])
        second = admin.annotate(pair.ls_task_id, [box_result(12, 10, 50, 50, "car", WIDTH, HEIGHT)])
        assert first["completed_by"] == second["completed_by"]  # the admin may; a labelling page never offers it
        annotated = {a.task_id: a.annotator for a in _answers(db)}
        assert "driving-s0-000001/1" in annotated and "driving-s0-000001/2" not in annotated
        with session_factory(db)() as session:
            copy2 = session.scalar(select(ManualTaskRow).where(ManualTaskRow.task_id == "driving-s0-000001/2"))
            assert copy2 is not None and copy2.state == TaskState.LEASED.value and copy2.lease_owner == BRIDGE


def test_a_webhook_lost_on_purpose_is_recovered_by_the_reconciliation(server: LabelStudioServer, db: Engine) -> None:
    add_tasks(db, frame_tasks(1))
    with api_server(db, server.url) as api, black_hole() as hole:
        bridge = make_bridge(server, db, api, webhook_url=hole.url)
        bridge.round()
        (task,) = bridge.tasks.open_tasks()
        before = _counted("poll", "submitted")
        Admin(server).annotate(task.ls_task_id, [box_result(100, 50, 40, 80, "pedestrian", WIDTH, HEIGHT)])
        wait_for("Label Studio to call the webhook", lambda: hole.received)
        assert hole.received[0]["action"] == "ANNOTATION_CREATED"
        assert _answers(db) == []  # lost: nothing recorded yet
        assert bridge.round().relayed == {"submitted": 1}
        (answer,) = _answers(db)
        assert answer.objects[0]["geometry"]["xywh"] == pytest.approx([100, 50, 40, 80], abs=1e-6)
        assert _counted("poll", "submitted") == before + 1


def test_a_skip_requeues_the_copy_in_shadowqa_and_label_studio_offers_it_to_others(
        server: LabelStudioServer, db: Engine) -> None:
    add_tasks(db, frame_tasks(1))
    with api_server(db, server.url) as api:
        bridge = make_bridge(server, db, api)
        bridge.round()
        (task,) = bridge.tasks.open_tasks()
        Admin(server).skip(task.ls_task_id)  # the webhook relays it: the copy goes back to the queue
        with session_factory(db)() as session:
            log = session.scalars(select(TaskLeaseRow).order_by(TaskLeaseRow.id)).all()
            assert [(r.annotator.split(":")[0], r.outcome) for r in log] == [
                (BRIDGE, "handed_over"), ("ls", "skipped")]
            row = session.scalar(select(ManualTaskRow))
            assert row is not None and row.state == TaskState.REQUEUED.value
        done = bridge.round()  # the requeued copy comes back to the same Label Studio task
        assert (done.attached, done.created) == (1, 0)
        assert [t.ls_task_id for t in bridge.tasks.open_tasks()] == [task.ls_task_id]


def test_a_task_deleted_in_label_studio_goes_back_to_the_queue(server: LabelStudioServer, db: Engine) -> None:
    add_tasks(db, frame_tasks(1, copies=2))
    with api_server(db, server.url) as api:
        bridge = make_bridge(server, db, api, open_frames=1)
        bridge.round()
        (task,) = bridge.tasks.open_tasks()
        Admin(server).delete(task.ls_task_id)
        bridge.config = replace(bridge.config, open_frames=0)  # so the round does not take them again
        done = bridge.round()
        assert (done.released, done.closed) == (2, 1)
        with session_factory(db)() as session:
            states = {r.task_id: r.state for r in session.scalars(select(ManualTaskRow))}
        assert set(states.values()) == {TaskState.REQUEUED.value}


@pytest.mark.faults
def test_label_studio_down_for_30_s_loses_nothing_and_the_bridge_catches_up(
        server: LabelStudioServer, db: Engine) -> None:
    """Leases of 10 s outlive a 30 s outage (renewed from the database each round); an annotation made just before
    the outage, whose webhook was lost, is relayed once Label Studio is back."""
    add_tasks(db, [*frame_tasks(1), *frame_tasks(2, copies=2)])
    port = int(server.url.rsplit(":", 1)[1])
    with api_server(db, server.url) as api, black_hole() as hole:
        bridge = make_bridge(server, db, api, lease_s=10.0, webhook_url=hole.url, interval_s=1.0)
        bridge.round()
        first = bridge.tasks.open_tasks()[0]
        Admin(server).annotate(first.ls_task_id, [box_result(20, 30, 40, 50, "car", WIDTH, HEIGHT)])
        halt = threading.Event()
        worker = threading.Thread(target=bridge.run, args=(halt,), daemon=True)
        labelstudio.down(server.paths)
        down_at = time.monotonic()
        worker.start()
        try:
            while time.monotonic() - down_at < 30.0:  # the outage the test is about, not a wait for a result
                time.sleep(1.0)
                with session_factory(db)() as session:
                    rows = session.scalars(select(ManualTaskRow)).all()
                    assert {r.state for r in rows} == {TaskState.LEASED.value}, "a lease ran out during the outage"
                    assert all(r.expiries == 0 for r in rows)
            assert _answers(db) == []
            labelstudio.up(server.paths, port)
            answer = wait_for("the bridge to catch up", lambda: _answers(db))
        finally:
            halt.set()
            worker.join(timeout=60)
    assert [a.task_id for a in answer] == ["driving-s0-000001/1"]
    assert answer[0].objects[0]["geometry"]["xywh"] == pytest.approx([20, 30, 40, 50], abs=1e-6)
    with session_factory(db)() as session:
        rows = session.scalars(select(ManualTaskRow)).all()
        assert sorted((r.task_id, r.state) for r in rows) == [
            ("driving-s0-000001/1", "submitted"), ("driving-s0-000002/1", "leased"), ("driving-s0-000002/2", "leased")]


def test_a_bridge_that_walks_away_has_its_tasks_back_in_the_queue_after_the_lease(
        server: LabelStudioServer, db: Engine) -> None:
    add_tasks(db, frame_tasks(1))
    with api_server(db, server.url) as api:
        bridge = make_bridge(server, db, api, lease_s=2.0)
        bridge.round()
        assert bridge.queue.claim("anna") is None  # held for Label Studio
        wait_for("the lease to run out", lambda: bridge.queue.claim("anna") is not None, timeout_s=60)
        late = Admin(server).annotate(bridge.tasks.open_tasks()[0].ls_task_id,
                                      [box_result(1, 1, 5, 5, "car", WIDTH, HEIGHT)])
        (refused,) = _rows(db, ExternalRefRow)  # Label Studio took it; the webhook brought it; shadowqa refused it
        assert refused.ref.endswith(f":annotation:{late['id']}") and refused.outcome == "refused"
        assert "too late" in (refused.reason or "") and _answers(db) == []


def test_the_bridge_command_moves_tasks_until_interrupted_and_refuses_to_start_without_the_secret(
        server: LabelStudioServer, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    engine = next(migrated_engine(database))
    add_tasks(engine, [*frame_tasks(1), *frame_tasks(2, copies=2)])
    env = {**os.environ, "SHADOWQA_DATABASE_URL": database, "SHADOWQA_LABELSTUDIO_URL": server.url,
           "SHADOWQA_LABELSTUDIO_TOKEN": server.token}
    argv = [str(SHADOWQA), "labelstudio", "bridge", "--api-url", "http://127.0.0.1:9", "--no-kafka",
            "--interval", "0.5"]
    refused = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 2 and "SHADOWQA_LABELSTUDIO_SECRET is not set" in refused.stderr

    process = subprocess.Popen(argv, env={**env, "SHADOWQA_LABELSTUDIO_SECRET": "s" * 40}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        tasks = TaskMap(engine, server_key(server.url))
        wait_for("the bridge's tasks", lambda: len(tasks.open_tasks()) == 2 or process.poll() is not None)
        assert process.poll() is None, process.communicate()
        assert [Admin(server).task(t.ls_task_id)["overlap"] for t in tasks.open_tasks()] == [1, 2]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "bridge between" in out and "2 new task(s)" in out
    engine.dispose()
