"""Consumer lag: the arithmetic as a table, and readings of a real group's committed offsets on the real broker."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer, TopicPartition  # type: ignore[import-untyped, unused-ignore]
from kafka.admin import KafkaAdminClient  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import OffsetAndMetadata  # type: ignore[import-untyped, unused-ignore]
from prometheus_client import REGISTRY

from services.infra.topic_names import TopicNames
from services.tools.kafka import KafkaSink
from services.tools.supervisor import Supervisor
from streams.app import app_id
from streams.lag import LagReporter, ReadPositions, lag_by_topic, pause_before_reading
from tests.integration.conftest import kafka_bootstrap, settings, topics  # noqa: F401 (fixtures)
from tests.services.infra.fakes import free_port
from tests.services.loop.messages.samples import sample
from tests.streams.scrape import scrape

A0, A1, B0 = ("a", 0), ("a", 1), ("b", 0)


@pytest.mark.parametrize(("ends", "consumed", "starts", "expected"), [
    ({A0: 10, A1: 5}, {A0: 4, A1: 5}, {}, {"a": 6}),  # summed over partitions
    ({A0: 10, B0: 3}, {A0: 10}, {B0: 0}, {"a": 0, "b": 3}),  # never committed: from the earliest offset
    ({A0: 10}, {}, {A0: 7}, {"a": 3}),  # retention deleted the first seven
    ({A0: 10}, {A0: 12}, {}, {"a": 0}),  # a position past a (stale) end is no negative lag
    ({}, {A0: 3}, {}, {}),  # no partitions known yet: no topics
], ids=["sum", "never-committed", "earliest", "no-negative", "empty"])
def test_lag_by_topic(ends: dict[tuple[str, int], int], consumed: dict[tuple[str, int], int],
                      starts: dict[tuple[str, int], int], expected: dict[str, int]) -> None:
    assert lag_by_topic(ends, consumed, starts) == expected


@pytest.mark.parametrize(("failures", "pause_s"), [(0, 5.0), (1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)])
def test_after_failed_readings_the_next_comes_sooner_then_backs_off_to_the_interval(failures: int,
                                                                                    pause_s: float) -> None:
    assert pause_before_reading(failures, interval_s=5.0) == pause_s


@pytest.fixture
def filled(kafka_bootstrap: str, topics: TopicNames) -> Iterator[str]:  # noqa: F811 (fixtures imported above)
    """``frames`` (4 partitions) with 10, 0, 3 and 1 records on partitions 0 to 3; its name."""
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for partition, n in enumerate((10, 0, 3, 1)):
        for i in range(n):
            producer.send(topics.frames, value=b"{}", key=f"k{i}".encode(), partition=partition)
    producer.flush()
    producer.close()
    yield topics.frames


def test_a_groups_lag_is_end_minus_committed_per_topic_and_set_on_the_gauge(kafka_bootstrap: str,  # noqa: F811
                                                                             filled: str) -> None:
    group = f"g-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    errors = admin.alter_group_offsets(group, {TopicPartition(filled, 0): OffsetAndMetadata(4, "", -1),
                                               TopicPartition(filled, 2): OffsetAndMetadata(3, "", -1)})
    admin.close()
    assert {e.__name__ for e in errors.values()} == {"NoError"}
    reporter = LagReporter(kafka_bootstrap, group, [filled, "no-such-topic"])
    try:
        assert reporter.measure() == {filled: (10 - 4) + 0 + (3 - 3) + 1}
    finally:
        reporter.stop()
    assert REGISTRY.get_sample_value("shadowqa_consumer_lag", {"group": group, "topic": filled}) == 7


def test_a_reader_without_a_group_reports_its_own_positions(kafka_bootstrap: str, filled: str) -> None:  # noqa: F811
    positions = ReadPositions()
    reporter = LagReporter(kafka_bootstrap, "aggregator-app", [filled], positions=positions)
    try:
        assert reporter.measure() == {filled: 14}  # nothing read yet: all of it
        positions.set(filled, 0, 10)
        positions.set(filled, 3, 1)
        assert reporter.measure() == {filled: 3}
    finally:
        reporter.stop()


def test_the_aggregator_worker_serves_its_lag_from_its_read_positions(
    kafka_bootstrap: str, topics: TopicNames, tmp_path: Path,  # noqa: F811
) -> None:
    sink = KafkaSink(kafka_bootstrap)
    for i in range(12):
        doc = sample("comparisons", frame_id=f"f-{i}")
        sink.send(topics.comparisons, doc["frame_id"].encode(), orjson.dumps(doc))
    sink.flush()
    sink.close()
    port = free_port()
    labels = (("group", app_id(topics, "aggregator")), ("topic", topics.comparisons))
    with Supervisor(topics.prefix, tmp_path / "logs", metrics_ports={"aggregator": port}) as supervisor:
        supervisor.start("aggregator")
        supervisor.wait_ready()
        deadline = time.monotonic() + 60  # the reporter reads every 5 s; the aggregator reads all 12 at once
        while scrape(port, "shadowqa_consumer_lag").get(labels) != 0.0:
            supervisor.check()
            assert time.monotonic() < deadline, scrape(port, "shadowqa_consumer_lag")
            time.sleep(0.5)


def test_while_the_broker_does_not_answer_the_reporter_waits_without_a_client_and_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reporter = LagReporter(f"127.0.0.1:{free_port()}", "g", ["t"], interval_s=0.01)
    with caplog.at_level(logging.DEBUG):
        reporter.start()
        time.sleep(0.5)  # dozens of ticks, were it not waiting
        reporter.stop()
    assert reporter._admin is None and not reporter._thread.is_alive()
    assert caplog.records == []  # neither its own warning nor kafka-python's retries
