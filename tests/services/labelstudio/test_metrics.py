"""The Label Studio side of /metrics, read from the database (services/labelstudio/metrics.py)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from services.api.queue import QueueConfig
from services.api.queue_tools import Answer, ToolQueue
from services.labelstudio.ingest import BRIDGE
from services.labelstudio.metrics import LabelStudioCollector
from services.labelstudio.store import OpenTask, TaskMap
from services.loop.messages import AnnotatedObject
from tests.services.api.helpers import FakeClock, add_tasks, frame_tasks

BOX = AnnotatedObject(bbox=(1.0, 2.0, 3.0, 4.0), category_id=1, attributes={})


def _samples(engine: Engine) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(LabelStudioCollector(engine))
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(generate_latest(registry).decode())
            for s in family.samples}


def test_open_tasks_held_copies_and_each_persons_answers_and_time(engine: Engine) -> None:
    add_tasks(engine, [*frame_tasks(1, copies=2), *frame_tasks(2)])
    clock = FakeClock()
    queue = ToolQueue(engine, QueueConfig(lease_s=60.0), clock=clock)
    groups = queue.claim_frames(BRIDGE, 2, lease_s=60.0)
    tasks = TaskMap(engine, "ls-test")
    for k, group in enumerate(groups, start=1):
        tasks.add(OpenTask(k, 1, group[0].frame_id, group[0].task_id, len(group), clock.now + 3600))
    clock.advance(40)
    queue.relay(BRIDGE, groups[0][0].frame_id, Answer("ls:7", "r1", objects=[BOX], began_at=clock.now - 30))
    queue.relay(BRIDGE, groups[0][0].frame_id, Answer("ls:8", "r2", skipped=True, began_at=clock.now - 5))
    queue.relay(BRIDGE, groups[1][0].frame_id, Answer("ls:8", "r3", objects=[BOX], began_at=clock.now - 10))
    tasks.close(2, "answered")
    got = _samples(engine)
    assert got[("shadowqa_labelstudio_open_tasks", ())] == 1
    assert got[("shadowqa_labelstudio_held_copies", ())] == 0  # one submitted, one skipped, one submitted
    answered = {labels: v for (name, labels), v in got.items() if name == "shadowqa_labelstudio_answered_total"}
    assert answered == {(("annotator", "ls:7"), ("outcome", "submitted")): 1,
                        (("annotator", "ls:8"), ("outcome", "skipped")): 1,
                        (("annotator", "ls:8"), ("outcome", "submitted")): 1}
    assert got[("shadowqa_labelstudio_answer_seconds_total", (("outcome", "submitted"),))] == 40
    assert got[("shadowqa_labelstudio_answers_total", (("outcome", "submitted"),))] == 2
    assert got[("shadowqa_labelstudio_answer_seconds_total", (("outcome", "skipped"),))] == 5


def test_people_are_named_only_when_names_are_given(engine: Engine) -> None:
    add_tasks(engine, frame_tasks(1))
    queue = ToolQueue(engine, QueueConfig(lease_s=60.0))
    (group,) = queue.claim_frames(BRIDGE, 1, lease_s=60.0)
    queue.relay(BRIDGE, group[0].frame_id, Answer("ls:7", "r1", objects=[BOX]))
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(LabelStudioCollector(engine, names=lambda: {"ls:7": "anna@team.example"}))
    text = generate_latest(registry).decode()
    assert 'annotator="anna@team.example"' in text and "ls:7" not in text
    assert (("annotator", "ls:7"), ("outcome", "submitted")) in {labels for _, labels in _samples(engine)}
