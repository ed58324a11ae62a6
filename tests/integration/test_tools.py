"""The feeder, the simulated annotators and snapshots against the real broker."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from kafka.partitioner.default import murmur2  # type: ignore[import-untyped, unused-ignore]

from services.cli.main import main
from services.infra.topic_names import ORDERED, TopicNames
from services.loop.messages import (
    ComparisonMessage,
    DeadLetter,
    FrameMessage,
    ManualAnnotation,
    ManualTask,
    decode,
    encode,
    task_id,
)
from services.replay.annotators import HumanErrorModel
from services.tools.annotator_pool import PoolOptions, simulate_annotators
from services.tools.annotators import annotate_task
from services.tools.kafka import KafkaSink, Record
from services.tools.snapshot import read_topic
from tests.integration.conftest import PARTITIONS
from tests.services.loop.messages.samples import sample


def _partition_of(key: bytes, partitions: int = PARTITIONS) -> int:
    """The partition Kafka's default partitioner (Java, kafka-python, aiokafka alike) gives a key."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def _send(bootstrap: str, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    sink = KafkaSink(bootstrap)
    try:
        for key, value in items:
            sink.send(topic, key, value)
        sink.flush()
    finally:
        sink.close()


def test_feed_sends_each_frame_once_keyed_by_frame_id(
    kafka_bootstrap: str, topics: TopicNames, capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["feed", "--source", "synthetic://driving?seed=3&n=60", "--bootstrap", kafka_bootstrap,
                 "--prefix", topics.prefix])
    assert code == 0 and "fed 60 frames of synthetic://driving?seed=3&n=60" in capsys.readouterr().out
    records = read_topic(kafka_bootstrap, topics.frames, timeout_s=10).records
    messages = {decode(FrameMessage, r.value).frame_id: (r, decode(FrameMessage, r.value)) for r in records}
    assert len(records) == len(messages) == 60
    for i in range(60):
        record, message = messages[f"driving-s3-{i:06d}"]
        assert record.key == message.frame_id.encode() and record.partition == _partition_of(record.key)
        assert (message.seq, message.image) == (i + 1, f"synthetic://driving?seed=3#{i}")
    assert len({r.partition for r in records}) == PARTITIONS


def _tasks(n: int) -> list[ManualTask]:
    tasks = []
    for i in range(n):
        frame_id = f"driving-s2-{i:06d}"
        for copy in (1, 2) if i % 3 == 0 else (1,):
            tasks.append(ManualTask(task_id=task_id(frame_id, copy), frame_id=frame_id, seq=i + 1,
                                    image=f"synthetic://driving?seed=2#{i}", copy=copy, inclusion_prob=0.5,
                                    consensus_prob=0.3, policy_version=1, time=float(i)))
    return tasks


def test_annotators_answer_every_task_once_and_dead_letter_bad_ones(kafka_bootstrap: str, topics: TopicNames) -> None:
    tasks = _tasks(24)
    unknown = tasks[0].model_copy(update={"image": "synthetic://driving?seed=x#1"})
    bad = [(b"driving-s2-900000", b"{not json"), (b"driving-s2-000000", encode(unknown))]
    _send(kafka_bootstrap, topics.manual_queue, [(t.frame_id.encode(), encode(t)) for t in tasks] + bad)
    options = PoolOptions(workers=3, seed=7, delay_ms=10.0, stop_after=len(tasks) + 2,
                          group=f"{topics.prefix}annotators")
    summary = simulate_annotators(kafka_bootstrap, topics, options)
    assert (summary.annotated, summary.dead_letters) == (len(tasks), 2)

    records = read_topic(kafka_bootstrap, topics.manual_annotations, timeout_s=10).records
    annotations = {decode(ManualAnnotation, r.value).task_id: (r, decode(ManualAnnotation, r.value)) for r in records}
    assert len(records) == len(annotations) == len(tasks)
    for task in tasks:
        record, a = annotations[task.task_id]
        assert record.key == task.frame_id.encode() and record.partition == _partition_of(record.key)
        expected = annotate_task(task, seed=7, model=HumanErrorModel(), people=3, now=0.0)
        assert (a.objects, a.tags, a.annotator) == (expected.objects, expected.tags, expected.annotator)
        if task.copy_ == 2:
            assert a.annotator != annotations[task_id(task.frame_id, 1)][1].annotator

    letters = [decode(DeadLetter, r.value) for r in read_topic(kafka_bootstrap, topics.dead_letters).records]
    assert sorted(letter.reason for letter in letters) == [
        "manual-queue: image: synthetic://driving?seed=x#1: seed: expected an integer >= 0, got 'x'",
        "manual-queue: not JSON (key must be a string at line 1 column 2)",
    ]
    assert {letter.source_topic for letter in letters} == {topics.manual_queue}

    again = simulate_annotators(kafka_bootstrap, topics, PoolOptions(workers=2, idle_seconds=1.0,
                                                                      group=f"{topics.prefix}annotators"))
    assert (again.annotated, again.dead_letters) == (0, 0)  # everything was committed: nothing comes back


def _comparison_records(n: int) -> list[tuple[bytes, bytes]]:
    items = []
    for i in range(n):
        doc = sample("comparisons", frame_id=f"f-{i:03d}", kind="consensus" if i % 4 == 0 else "machine",
                     accepted=i % 6 != 0, time=1000.0 + (i * 7) % n, inclusion_prob=1.0)
        items.append((doc["frame_id"].encode(), encode(ComparisonMessage.model_validate(doc))))
    return items


def test_a_snapshot_is_what_was_produced_and_the_gate_reads_it(
    kafka_bootstrap: str, topics: TopicNames, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    produced = _comparison_records(50)
    _send(kafka_bootstrap, topics.comparisons, produced)
    out, machine = tmp_path / "all.jsonl", tmp_path / "machine.jsonl"
    base = ["snapshot", "export", "--topic", "comparisons", "--bootstrap", kafka_bootstrap, "--prefix", topics.prefix]
    assert main([*base, "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert f"exported 50 messages of {topics.comparisons}" in summary and "per partition 0: " in summary

    values = [orjson.loads(v) for _, v in produced]
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert lines == sorted(values, key=lambda v: (v["time"], v["frame_id"]))

    assert main([*base, "--out", str(tmp_path / "meta.jsonl"), "--with-metadata", "--order", "offset"]) == 0
    wrapped = [orjson.loads(line) for line in (tmp_path / "meta.jsonl").read_bytes().splitlines()]
    assert [(w["partition"], w["offset"]) for w in wrapped] == sorted((w["partition"], w["offset"]) for w in wrapped)
    assert "comparisons" in ORDERED, "comparisons has one partition: the aggregator's order is the topic's"
    assert all(w["partition"] == _partition_of(w["key"].encode(), 1) for w in wrapped)
    assert sorted(w["value"]["frame_id"] for w in wrapped) == sorted(v["frame_id"] for v in values)

    assert main([*base, "--out", str(machine), "--kind", "machine"]) == 0
    capsys.readouterr()
    code = main(["gate", "--comparisons", str(machine), "--target", "0.5", "--max-weight", "1", "--json"])  # π = 1
    gate = orjson.loads(capsys.readouterr().out)
    assert code == 0 and gate["decision"] == "pass" and gate["n"] == sum(v["kind"] == "machine" for v in values)


def test_a_snapshot_of_an_empty_topic_is_an_empty_file(
    kafka_bootstrap: str, topics: TopicNames, tmp_path: Path,
) -> None:
    out = tmp_path / "empty.jsonl"
    assert main(["snapshot", "export", "--topic", "policies", "--out", str(out), "--bootstrap", kafka_bootstrap,
                 "--prefix", topics.prefix]) == 0
    assert out.read_bytes() == b""


def test_records_round_trip_through_the_record_shape(kafka_bootstrap: str, topics: TopicNames) -> None:
    _send(kafka_bootstrap, topics.dead_letters, [(b"k", b"\xff raw")])
    [record] = read_topic(kafka_bootstrap, topics.dead_letters).records
    assert isinstance(record, Record) and (record.key, record.value, record.partition) == (b"k", b"\xff raw", 0)
