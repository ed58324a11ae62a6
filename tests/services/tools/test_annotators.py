"""Simulated annotators: deterministic per (seed, frame, copy), the replay's people, consensus to someone else."""

from __future__ import annotations

import orjson
import pytest

from services.engine.sources import open_source
from services.infra.topic_names import TopicNames
from services.loop.messages import DeadLetter, ManualAnnotation, ManualTask, decode, original_value, task_id
from services.replay.annotators import HumanErrorModel, annotate_document
from services.tools.annotators import (
    annotate_task,
    annotator_index,
    error_model,
    handle_task,
    scaled,
)
from services.tools.kafka import Record
from tests.services.tools.memory import MemorySink

TOPICS = TopicNames("t-")


def _task(index: int, copy: int = 1, seed: int = 5, image: str | None = None) -> ManualTask:
    frame_id = f"driving-s{seed}-{index:06d}"
    return ManualTask.model_validate({
        "task_id": task_id(frame_id, copy), "frame_id": frame_id, "seq": index + 1, "copy": copy,
        "image": image or f"synthetic://driving?seed={seed}#{index}", "inclusion_prob": 0.5, "consensus_prob": 0.2,
        "policy_version": 1, "stratum": "weather=rain", "time": 1.0,
    })


def test_an_annotation_echoes_its_task() -> None:
    a = annotate_task(_task(3, copy=2), seed=0, model=HumanErrorModel(), people=4, now=9.0)
    assert (a.task_id, a.frame_id, a.seq, a.copy_, a.inclusion_prob, a.consensus_prob, a.stratum, a.time) == (
        "driving-s5-000003/2", "driving-s5-000003", 4, 2, 0.5, 0.2, "weather=rain", 9.0)
    assert a.annotator.startswith("sim-") and a.objects


def test_annotations_depend_only_on_seed_frame_and_copy() -> None:
    model = HumanErrorModel()
    for index in range(6):
        first = annotate_task(_task(index), seed=1, model=model, people=3, now=1.0)
        again = annotate_task(_task(index), seed=1, model=model, people=7, now=2.0)
        assert (first.objects, first.tags) == (again.objects, again.tags)
    copies = [annotate_task(_task(i, copy=c), seed=1, model=model, people=3, now=1.0).objects
              for i in range(6) for c in (1, 2)]
    assert any(copies[2 * i] != copies[2 * i + 1] for i in range(6))  # two people disagree somewhere


def test_the_offline_replay_reproduces_every_annotation() -> None:
    """Objects are reproduced exactly; so are tag mistakes, except which wrong value a mistake picks:
    the replay lists a tag's values in the order a document shows them, the online people in the data set's
    canonical order."""
    truth = open_source("synthetic://driving?seed=5&n=30").ground_truth()
    assert truth is not None
    model = scaled(HumanErrorModel(), 3.0)  # sloppy: more mistakes to reproduce
    for copy in (1, 2):
        offline = annotate_document(truth, seed=11, annotator=copy, model=model)
        for index in range(30):
            online = annotate_task(_task(index, copy), seed=11, model=model, people=2, now=0.0)
            expected = [a for a in offline["annotations"] if a["image_id"] == index + 1]
            assert [o.model_dump() for o in online.objects] == [
                {"geometry": {"type": "box2d", "xywh": list(a["bbox"])}, "category_id": a["category_id"],
                 "attributes": a["attributes"]}
                for a in expected
            ]
            real = truth["images"][index]["tags"]
            assert _mistakes(online.tags, real) == _mistakes(offline["images"][index]["tags"], real)


def _mistakes(tags: dict[str, str], real: dict[str, str]) -> set[str]:
    return {k for k, v in tags.items() if v != real[k]}


@pytest.mark.parametrize("people", [2, 3, 4, 10])
def test_a_consensus_copy_goes_to_someone_else(people: int) -> None:
    firsts = set()
    for i in range(300):
        frame_id = f"f-{i}"
        first, second = annotator_index(frame_id, 1, people), annotator_index(frame_id, 2, people)
        assert first != second and 0 <= first < people and 0 <= second < people
        firsts.add(first)
    assert firsts == set(range(people))  # everyone gets work


def test_a_consensus_copy_needs_two_people() -> None:
    assert annotator_index("f", 1, 1) == 0
    with pytest.raises(ValueError, match="two people"):
        annotator_index("f", 2, 1)


def test_careful_and_sloppy_scale_the_default() -> None:
    default = HumanErrorModel()
    assert error_model("default") == default
    assert error_model("careful").miss_tiny == pytest.approx(default.miss_tiny / 2)
    assert error_model("careful").box_jitter == pytest.approx(default.box_jitter / 2)
    assert error_model("sloppy").class_confusion == pytest.approx(default.class_confusion * 3)
    assert scaled(default, 10.0).miss_tiny == 1.0  # a rate never exceeds 1
    with pytest.raises(KeyError, match="unknown error model 'lazy'"):
        error_model("lazy")


def _record(value: bytes, key: bytes = b"k", offset: int = 7) -> Record:
    return Record("t-manual-queue", 2, offset, 0, key, value)


def test_a_task_becomes_an_annotation_keyed_by_frame_id() -> None:
    sink = MemorySink()
    task = _task(2)
    name = handle_task(_record(orjson.dumps(task.model_dump(by_alias=True))), sink, TOPICS, seed=0,
                       model=HumanErrorModel(), people=3, now=4.0)
    [(key, value)] = sink.on(TOPICS.manual_annotations)
    annotation = decode(ManualAnnotation, value)
    assert key == task.frame_id.encode() and annotation.annotator == name and annotation.task_id == task.task_id


@pytest.mark.parametrize(("value", "reason"), [
    (b"not json", "manual-queue: not JSON (expected ident at line 1 column 2)"),
    (orjson.dumps({**_task(1).model_dump(by_alias=True), "copy": 3}),
     "manual-queue: copy: expected 1 or 2, got number 3"),
    (orjson.dumps(_task(1, image="synthetic://driving?seed=z#1").model_dump(by_alias=True)),
     "manual-queue: image: synthetic://driving?seed=z#1: seed: expected an integer >= 0, got 'z'"),
    (orjson.dumps(_task(1, image="file:///frames/1.png").model_dump(by_alias=True)),
     "manual-queue: image: file:///frames/1.png: no ground truth is known for image files"),
])
def test_an_invalid_task_goes_to_dead_letters(value: bytes, reason: str) -> None:
    sink = MemorySink()
    record = _record(value, key=b"driving-s5-000001", offset=41)
    assert handle_task(record, sink, TOPICS, seed=0, model=HumanErrorModel(), people=2, now=3.0) is None
    assert sink.on(TOPICS.manual_annotations) == []
    [(key, raw)] = sink.on(TOPICS.dead_letters)
    letter = decode(DeadLetter, raw)
    assert key == b"driving-s5-000001" and letter.reason.startswith(reason)
    assert (letter.stage, letter.source_topic, letter.partition, letter.offset) == ("annotators", "t-manual-queue", 2,
                                                                                   41)
    assert original_value(letter) == value
