"""Topics on the real broker: the layout of docs/streaming.md, idempotent creation, no auto-creation."""

from __future__ import annotations

import pytest
from kafka import KafkaProducer  # type: ignore[import-untyped, unused-ignore]
from kafka.admin import ConfigResource, KafkaAdminClient  # type: ignore[import-untyped, unused-ignore]
from kafka.errors import KafkaTimeoutError  # type: ignore[import-untyped, unused-ignore]

from services.infra.exceptions import TopicLayoutMismatch
from services.infra.topic_names import COMPACTED, ORDERED, PER_FRAME, SINGLE, TopicNames
from services.infra.topics import create_topics, delete_topics, describe_topics, topic_layout
from services.settings import Settings
from tests.integration.conftest import PARTITIONS


def test_topics_have_the_documented_layout(kafka_bootstrap: str, topics: TopicNames, settings: Settings) -> None:
    states = describe_topics(kafka_bootstrap, topics.all())
    retention_ms = round(settings.retention_hours * 3_600_000)
    assert set(states) == set(topics.all())
    for base in PER_FRAME + SINGLE:
        state = states[topics.name(base)]
        assert state.partitions == (PARTITIONS if base in PER_FRAME and base not in ORDERED else 1), base
        if base in COMPACTED:
            assert state.cleanup_policy == "compact", base
        else:
            assert (state.cleanup_policy, state.retention_ms) == ("delete", retention_ms), base


def test_creating_again_is_a_no_op(kafka_bootstrap: str, topics: TopicNames, settings: Settings) -> None:
    report = create_topics(kafka_bootstrap, topic_layout(topics, PARTITIONS, settings.retention_hours))
    assert report.created == ()
    assert report.existing == topics.all()


def test_a_wrong_partition_count_names_the_topic(kafka_bootstrap: str, topics: TopicNames) -> None:
    with pytest.raises(TopicLayoutMismatch, match=f"topic '{topics.frames}' has 4 partitions, the layout wants 2"):
        create_topics(kafka_bootstrap, topic_layout(topics, 2, 168))


def test_the_broker_never_creates_topics_by_itself(kafka_bootstrap: str, topics: TopicNames) -> None:
    missing = f"{topics.prefix}not-in-the-layout"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        broker = admin.describe_cluster()["brokers"][0]["broker_id"]
        configs = admin.describe_configs([ConfigResource("BROKER", str(broker), ["auto.create.topics.enable"])],
                                         config_filter="all")
    finally:
        admin.close()
    assert configs["broker"][str(broker)]["auto.create.topics.enable"]["value"] == "false"
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, max_block_ms=1000)
    try:
        with pytest.raises(KafkaTimeoutError):
            producer.send(missing, b"x").get(timeout=5)
    finally:
        producer.close(timeout=5)
    assert describe_topics(kafka_bootstrap, [missing]) == {}


def test_deleting_topics_that_are_gone_is_fine(kafka_bootstrap: str) -> None:
    delete_topics(kafka_bootstrap, TopicNames(prefix="t-never-created-").all())
