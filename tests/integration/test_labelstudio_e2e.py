"""Label Studio as the team's workspace, end to end, as people use it.

The streaming workers on the real broker answer and route synthetic driving frames, the persisting worker queues
the blind tasks in PostgreSQL, the bridge moves them into a real Label Studio (from PyPI, on loopback), and
annotators log in with headless Chromium, draw a box on the task's image (served, signed, by shadowqa's API) and
submit. The annotation reaches ``manual-annotations`` with the box in pixels and ``comparisons`` against the
machine; the consensus copy goes to a second person, never to the first. Nothing of the machine's output is in
Label Studio. An annotator who walks away has the task back for the others after the lease (Label Studio's task
lock, which the provisioned server holds for the lease length).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.datasets.profiles import profile
from services.db.engine import session_factory
from services.db.models import ManualAnnotationRow, ManualTaskRow
from services.engine.frame_refs import frame_truth
from services.infra import labelstudio
from services.infra.topic_names import TopicNames
from services.labelstudio.bridge import Bridge
from services.labelstudio.labeling import labeling
from services.loop.config import LoopConfig
from services.loop.messages import AutomationMessage, ComparisonMessage, ManualAnnotation, decode
from services.settings import Settings
from services.tools.feed import feed_to_kafka
from services.tools.kafka import KafkaSink
from services.tools.snapshot import read_topic
from services.tools.supervisor import Supervisor
from services.tools.worker_args import loop_args
from tests.services.api.helpers import add_tasks, frame_tasks
from tests.utils.db import migrated_engine
from tests.utils.labelstudio_accounts import create_annotator
from tests.utils.labelstudio_browser import AnnotatorPage, ImageBox, chromium
from tests.utils.labelstudio_env import Admin, api_server, make_bridge, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
CONFIG = LoopConfig(dataset="driving", consensus_share=1.0, auto_apply=False)  # every task has a second copy
# Each of these frames has an object to draw (test_every_fed_frame_has_an_object_to_draw); seed 5's frame 7 is empty.
FRAMES, SEED = 16, 1
PIXELS = 1.5  # drawn box vs ground truth, in pixels of the 320 x 192 frame (a mouse drag on the zoomed image)
LOCK_TTL_S = 20  # the walk-away test's lease: Label Studio's task lock and the bridge's lease
PASSWORD = "annotate-blind-2026"
MIN_HEIGHT = 12  # px: the driving spec ignores shorter objects on both sides (services/datasets/driving/qa_spec.py)
MARGIN = 2  # px: a box drawn this much taller than that is counted however the drag lands
PIPELINE_WAIT_S = 600.0  # a guard against a hang only: waits end as soon as what they wait for is there
DATA_KEYS = {"image", "shadowqa_frame", "shadowqa_profile"}


@contextlib.contextmanager
def running(bridge: Bridge) -> Iterator[None]:
    halt = threading.Event()
    worker = threading.Thread(target=bridge.run, args=(halt,), name="bridge", daemon=True)
    worker.start()
    try:
        yield
    finally:
        halt.set()
        worker.join(timeout=60)


def _image_of(engine: Engine, frame_id: str) -> str:
    with session_factory(engine)() as session:
        image = session.scalar(select(ManualTaskRow.image).where(ManualTaskRow.frame_id == frame_id).limit(1))
    assert image is not None, frame_id
    return image


def _largest_object(image_ref: str) -> tuple[str, list[float], ImageBox, dict[str, str]]:
    """The frame's largest ground-truth object: its label, its box in pixels and in percent; the frame's tags."""
    truth = frame_truth(image_ref)
    names = {int(c["id"]): str(c["name"]) for c in truth.categories}
    width, height = truth.image["width"], truth.image["height"]
    tall = [o for o in truth.objects if o["bbox"][3] >= MIN_HEIGHT + MARGIN]
    assert tall, f"{image_ref} has no object to draw: the test's seed must give every frame one"
    biggest = max(tall, key=lambda o: o["bbox"][2] * o["bbox"][3])
    x, y, w, h = biggest["bbox"]
    box = ImageBox(x=100 * x / width, y=100 * y / height, width=100 * w / width, height=100 * h / height)
    return names[biggest["category_id"]], [x, y, w, h], box, dict(truth.image["tags"])


def _annotate(page: AnnotatorPage, image_ref: str) -> list[float]:
    """Draw the largest object and pick the frame's tags; the box drawn, in pixels."""
    label, pixels, box, tags = _largest_object(image_ref)
    page.draw_rectangle(label, box)
    for value in tags.values():
        page.choose(value)
    return pixels


def _topic(bootstrap: str, topic: str, kind: type[Any]) -> list[Any]:
    return [decode(kind, r.value or b"") for r in read_topic(bootstrap, topic).records]


def _assert_blind(admin: Admin, project: int, machine: list[AutomationMessage]) -> None:
    """No prediction, no machine field, no model version, no machine box anywhere in the project's tasks."""
    tasks = admin.project_tasks(project)
    assert tasks
    text = json.dumps(tasks)
    for task in tasks:
        assert task["predictions"] == [] and task["total_predictions"] == 0
        assert set(task["data"]) == DATA_KEYS
    assert any(answer.geometries for answer in machine), "no machine box: the check below would check nothing"
    for answer in machine:
        assert answer.model_version not in text
        assert answer.confidence is None or json.dumps(answer.confidence) not in text
        for shape in answer.geometries:
            assert json.dumps(list(shape.value))[1:-1] not in text  # a machine box, as JSON would print it
    assert admin.http.get("/api/ml", params={"project": project}).json() == []


def test_every_fed_frame_has_an_object_to_draw() -> None:
    """The browser test's annotator draws whichever frame Label Studio hands out first: each must have one."""
    for index in range(FRAMES):
        _largest_object(f"synthetic://driving?seed={SEED}#{index}")


def test_a_box_drawn_in_label_studio_reaches_comparisons_in_pixels_and_the_consensus_copy_goes_to_another_person(
        settings: Settings, run_topics: TopicNames, postgres_url: str, tmp_path: Path) -> None:
    bootstrap = settings.kafka_bootstrap
    engine = next(migrated_engine(postgres_url))
    sink = KafkaSink(bootstrap)
    workers = Supervisor(run_topics.prefix, tmp_path / "logs", worker_args=loop_args(CONFIG),
                         env={"SHADOWQA_DATABASE_URL": postgres_url})
    with labelstudio.throwaway() as server, workers as supervisor, \
            api_server(engine, server.url, sink=sink, names=run_topics) as api:
        supervisor.start("persist")
        supervisor.start_all()
        bridge = make_bridge(server, engine, api, open_frames=4)
        with running(bridge), chromium() as browser:
            feed_to_kafka(profile(CONFIG.dataset).source(SEED, FRAMES), bootstrap=bootstrap, topic=run_topics.frames)
            opened = wait_for("tasks in Label Studio", lambda: bridge.tasks.open_tasks()[:2] if len(
                bridge.tasks.open_tasks()) >= 2 else None, timeout_s=PIPELINE_WAIT_S, every_s=1.0)
            project = opened[0].project_id
            admin = Admin(server)
            assert admin.http.get(f"/api/projects/{project}").json()["label_config"] == labeling("driving").config()
            machine = wait_for("the machine's answers", lambda: _topic(
                bootstrap, run_topics.automation_results, AutomationMessage) or None, timeout_s=PIPELINE_WAIT_S)
            _assert_blind(admin, project, machine)

            anna = create_annotator(server.url, server.token, email="anna@team.example", password=PASSWORD)
            ben = create_annotator(server.url, server.token, email="ben@team.example", password=PASSWORD)
            first = AnnotatorPage.login(browser, server.url, anna.email, anna.password)
            task = first.open_stream(project)
            assert task is not None
            frame = bridge.tasks.frame_of(task)
            assert frame is not None
            drawn = _annotate(first, _image_of(engine, frame))
            after = first.submit()
            assert after is not None and after != task  # the consensus copy is never given to the same person

            mine = wait_for("anna's annotation on manual-annotations", lambda: [
                a for a in _topic(bootstrap, run_topics.manual_annotations, ManualAnnotation)
                if a.frame_id == frame], timeout_s=PIPELINE_WAIT_S)
            assert [(a.annotator, a.copy_) for a in mine] == [(f"ls:{anna.user_id}", 1)]
            (box,) = mine[0].objects
            assert list(box.geometry.value) == pytest.approx(drawn, abs=PIXELS)
            compared = wait_for("the machine comparison of that frame", lambda: [
                c for c in _topic(bootstrap, run_topics.comparisons, ComparisonMessage)
                if c.frame_id == frame and c.kind == "machine"], timeout_s=PIPELINE_WAIT_S)
            # anna's one box is counted once, matched by the machine (tp) or missed by it (fn), whichever frame the
            # stream opened; matched, it overlaps the machine's box as a box should
            counted = int(drawn[3] >= MIN_HEIGHT + MARGIN)  # 0 only on a frame without an object that tall
            assert compared[0].tp + compared[0].fn == counted
            assert compared[0].tp == 0 or (compared[0].mean_iou or 0.0) >= 0.5

            second = AnnotatorPage.login(browser, server.url, ben.email, ben.password)
            assert second.open_stream(project) == task  # the consensus copy, to the second person
            _annotate(second, _image_of(engine, frame))
            second.submit()
            consensus = wait_for("the consensus comparison of that frame", lambda: [
                c for c in _topic(bootstrap, run_topics.comparisons, ComparisonMessage)
                if c.frame_id == frame and c.kind == "consensus"], timeout_s=PIPELINE_WAIT_S)
            assert (consensus[0].tp, consensus[0].fp, consensus[0].fn) == (counted, 0, 0)  # the same object
            assert not counted or (consensus[0].mean_iou or 0.0) >= 0.8
            people = {a.copy_: a.annotator for a in _topic(bootstrap, run_topics.manual_annotations,
                                                            ManualAnnotation) if a.frame_id == frame}
            assert people == {1: f"ls:{anna.user_id}", 2: f"ls:{ben.user_id}"}
    sink.close()
    engine.dispose()


def test_an_annotator_who_walks_away_has_the_task_back_for_the_others_after_the_lease(postgres_url: str) -> None:
    engine = next(migrated_engine(postgres_url))
    add_tasks(engine, frame_tasks(7))
    with labelstudio.throwaway(lock_ttl_s=LOCK_TTL_S) as server, api_server(engine, server.url) as api, \
            chromium() as browser:
        bridge = make_bridge(server, engine, api, lease_s=LOCK_TTL_S)
        with running(bridge):
            wait_for("the task in Label Studio", bridge.tasks.open_tasks)
            (task,) = bridge.tasks.open_tasks()
            anna = create_annotator(server.url, server.token, email="anna@team.example", password=PASSWORD)
            ben = create_annotator(server.url, server.token, email="ben@team.example", password=PASSWORD)
            walker = AnnotatorPage.login(browser, server.url, anna.email, anna.password)
            assert walker.open_stream(task.project_id) == task.ls_task_id
            walker.close()  # walks away: the task stays locked to anna until the lease runs out
            other = AnnotatorPage.login(browser, server.url, ben.email, ben.password)
            assert other.open_stream(task.project_id) is None and other.no_more_tasks()
            wait_for("the task to come back to the others", lambda: other.open_stream(task.project_id),
                     timeout_s=20 * LOCK_TTL_S, every_s=2.0)
            assert other.task_id == task.ls_task_id
            _annotate(other, _image_of(engine, task.frame_id))
            other.submit()
            answers = wait_for("ben's submission", lambda: _answers(engine))
    assert [(a.task_id, a.annotator) for a in answers] == [("driving-s0-000007/1", f"ls:{ben.user_id}")]
    engine.dispose()


def _answers(engine: Engine) -> list[ManualAnnotationRow]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(ManualAnnotationRow)).all())
