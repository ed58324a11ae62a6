"""The project's broker: up/down/status through the CLI, clear errors, and both Python clients against it."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped, unused-ignore]
from kafka import KafkaConsumer, KafkaProducer  # type: ignore[import-untyped, unused-ignore]

from services.cli.main import main
from services.infra.client import admin_client, answers_requests, broker_ready
from services.infra.exceptions import BrokerConflict, PortInUse
from services.infra.kafka import KAFKA_VERSION, KafkaPaths, default_paths, down, status, up
from services.infra.topic_names import TopicNames
from services.settings import Settings

MESSAGES = 40
DEADLINE_S = 20.0


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["infra", "kafka", *args])
    return code, capsys.readouterr().out


def test_cli_up_and_status_leave_a_running_broker_alone(kafka_bootstrap: str, capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    started = tmp_path / "started"
    started.write_text("stale")
    code, out = _cli(capsys, "up", "--started-file", str(started))
    assert code == 0 and out.startswith(f"Kafka {KAFKA_VERSION} already running on {kafka_bootstrap} (pid ")
    assert not started.exists()  # this call did not start it, so `make test` must not stop it
    code, out = _cli(capsys, "status")
    assert code == 0 and out.startswith("running  pid ")
    assert f"bootstrap {kafka_bootstrap}  version {KAFKA_VERSION}" in out


def test_up_status_down_up_cycle(kafka_bootstrap: str, tmp_path: Path) -> None:
    """A second broker (scratch data folder, free ports, the cached jars), so the shared one keeps serving."""
    paths = KafkaPaths(jars=default_paths().jars, data=tmp_path / "data")
    port, controller_port = _free_port(), _free_port()
    bootstrap = f"127.0.0.1:{port}"
    assert down(paths) is None and not status(paths).running
    try:
        first = up(paths, port, controller_port, 256)
        assert first.started and first.formatted and first.status.bootstrap == bootstrap
        again = up(paths, port, controller_port, 256)
        assert not again.started and again.status == first.status == status(paths)
        assert (first.status.running, first.status.version) == (True, KAFKA_VERSION)
        assert broker_ready(bootstrap) and answers_requests(bootstrap)
        group = f"g-{uuid.uuid4().hex[:8]}"  # on a freshly formatted broker: groups work at once, no retry
        with admin_client(bootstrap) as admin:
            assert admin.list_group_offsets(group) == {group: {}}
        cluster_id = paths.cluster_id.read_text()
        assert down(paths) == first.status
        assert not status(paths).running and not paths.pid.exists() and not broker_ready(bootstrap, timeout_s=1)
        assert not answers_requests(bootstrap)
        assert down(paths) is None
        restarted = up(paths, port, controller_port, 256)
        assert restarted.started and not restarted.formatted and paths.cluster_id.read_text() == cluster_id
        assert broker_ready(bootstrap)
    finally:
        down(paths)
    assert not status(paths).running


def test_up_on_other_ports_while_running_is_an_error(kafka_bootstrap: str, settings: Settings) -> None:
    with pytest.raises(BrokerConflict, match=f"already runs on {kafka_bootstrap}.*run `shadowqa infra kafka down`"):
        up(default_paths(), settings.kafka_port + 100, settings.kafka_controller_port + 100, settings.kafka_heap_mb)


def test_port_taken_by_another_process(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = Settings(kafka_port=port, kafka_controller_port=_free_port())
        paths = KafkaPaths(jars=default_paths().jars, data=tmp_path / "data")
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 .* is in use by a process that is not "
                                            "shadowqa's broker; .* SHADOWQA_KAFKA_PORT"):
            up(paths, settings.kafka_port, settings.kafka_controller_port, settings.kafka_heap_mb)
    assert not status(paths).running


def test_broker_logs_through_log4j_at_warn(kafka_bootstrap: str) -> None:
    """Kafka's jars bring SLF4J 1.7: only its log4j binding turns the broker's logging on (else SLF4J warns, NOP)."""
    bindings = sorted(path.name for path in default_paths().jars.glob("*slf4j*.jar"))
    assert [name.rsplit("-", 1)[0] for name in bindings] == ["log4j-slf4j-impl", "slf4j-api"]
    assert bindings[1].startswith("slf4j-api-1.")
    deadline = time.monotonic() + DEADLINE_S
    while "Kafka Server started" not in (log := default_paths().log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Kafka Server started (kafka.server.KafkaRaftServer)" in log
    assert "SLF4J" not in log and "] INFO [SocketServer" not in log


def test_kafka_python_round_trip(kafka_bootstrap: str, topics: TopicNames) -> None:
    keys = [f"frame-{i % 10}" for i in range(MESSAGES)]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        for i, key in enumerate(keys):
            producer.send(topics.frames, key=key.encode(), value=json.dumps({"seq": i}).encode())
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=5)
    consumer = KafkaConsumer(topics.frames, bootstrap_servers=kafka_bootstrap, group_id=f"{topics.prefix}group",
                             auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        records = _drain(consumer)
        consumer.commit()
    finally:
        consumer.close()
    assert sorted(json.loads(r.value)["seq"] for r in records) == list(range(MESSAGES))
    partitions: dict[bytes, set[int]] = {}
    for record in records:
        partitions.setdefault(record.key, set()).add(record.partition)
    assert all(len(p) == 1 for p in partitions.values())  # one key, one partition: the co-partitioning rule
    assert len({p for ps in partitions.values() for p in ps}) > 1


def test_aiokafka_round_trip_with_transactions(kafka_bootstrap: str, topics: TopicNames) -> None:
    received = asyncio.run(_aiokafka_round_trip(kafka_bootstrap, topics))
    assert received == [f"committed-{i}".encode() for i in range(MESSAGES)]


async def _aiokafka_round_trip(bootstrap: str, topics: TopicNames) -> list[bytes]:
    """Produce a committed and an aborted transaction (as faust does with exactly-once), read committed only."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"{topics.prefix}{uuid.uuid4().hex}")
    await producer.start()
    try:
        async with producer.transaction():
            for i in range(MESSAGES):
                await producer.send(topics.comparisons, key=b"f1", value=f"committed-{i}".encode())
        with pytest.raises(RuntimeError):
            async with producer.transaction():
                await producer.send(topics.comparisons, key=b"f1", value=b"aborted")
                raise RuntimeError("abort")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topics.comparisons, bootstrap_servers=bootstrap, group_id=f"{topics.prefix}aio",
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        values: list[bytes] = []
        deadline = time.monotonic() + DEADLINE_S
        while len(values) < MESSAGES and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            values.extend(record.value for batch in batches.values() for record in batch)
        await consumer.commit()
        return values
    finally:
        await consumer.stop()


def _drain(consumer: KafkaConsumer) -> list[Any]:
    """Poll until every message arrived (or the deadline passed)."""
    records: list[Any] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(records) < MESSAGES and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    return records


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
