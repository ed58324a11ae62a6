"""The API's outbox against the real broker: poison rows go to dead-letters, the good ones to manual-annotations,
on SQLite and PostgreSQL; a dead-letter topic the broker does not have leaves the poison pending, not lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.api.outbox import Outbox
from services.db.engine import make_engine, upgrade
from services.infra.topic_names import TopicNames
from services.loop.messages import DeadLetter, ManualAnnotation, decode
from services.tools.exceptions import DeliveryFailed
from services.tools.kafka import KafkaSink
from services.tools.snapshot import read_topic
from tests.utils.outbox import marks, poison, submit


@pytest.fixture
def sink(kafka_bootstrap: str) -> Iterator[KafkaSink]:
    sink = KafkaSink(kafka_bootstrap)
    yield sink
    sink.close()


def _drain(outbox: Outbox) -> int:
    total = 0
    while done := outbox.publish():
        total += done
    return total


def test_poison_rows_are_dead_lettered_and_the_100_after_them_published(
    engine: Engine, sink: KafkaSink, topics: TopicNames, kafka_bootstrap: str,
) -> None:
    bad = submit(engine, [0], **poison("int64")) + submit(engine, [1], **poison("surrogate"))
    bad += submit(engine, [2], **poison("too_large"))  # over kafka-python's 1 MB max_request_size
    good = submit(engine, range(3, 103))

    assert _drain(Outbox(engine, sink, topics.manual_annotations)) == 103

    published = [decode(ManualAnnotation, r.value) for r in read_topic(kafka_bootstrap, topics.manual_annotations,
                                                                       timeout_s=10).records]
    assert sorted(a.task_id for a in published) == good
    letters = [decode(DeadLetter, r.value) for r in read_topic(kafka_bootstrap, topics.dead_letters,
                                                               timeout_s=10).records]
    assert sorted((letter.key, letter.reason.split(":")[0]) for letter in letters) == [
        ("driving-s0-000000", "encode"), ("driving-s0-000001", "encode"), ("driving-s0-000002", "too_large")]
    assert {(letter.stage, letter.source_topic) for letter in letters} == {("outbox", topics.manual_annotations)}
    assert "MessageSizeTooLargeError" in next(letter.reason for letter in letters if letter.key.endswith("02"))
    stored = marks(engine)
    assert [stored[t][:2] for t in bad] == [(False, True)] * 3
    assert all(stored[t] == (True, False, None) for t in good)


def test_a_dead_letter_topic_the_broker_lacks_leaves_the_poison_pending(
    tmp_path: Path, sink: KafkaSink, topics: TopicNames, kafka_bootstrap: str,
) -> None:
    """The dead letter is not acknowledged (the producer gives up waiting for the topic's metadata, 10 s): the
    poison row is retried later, never marked, and the good rows are published all the same. SQLite only: the
    database plays no part here."""
    url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    (bad,) = submit(engine, [0], **poison("int64"))
    good = submit(engine, range(1, 21))
    outbox = Outbox(engine, sink, topics.manual_annotations, dead_letters=f"{topics.prefix}missing-dead-letters")
    with pytest.raises(DeliveryFailed, match="KafkaTimeoutError"):
        outbox.publish()
    stored = marks(engine)
    assert stored[bad] == (False, False, None)
    assert all(stored[t] == (True, False, None) for t in good)
    assert len(read_topic(kafka_bootstrap, topics.manual_annotations, timeout_s=10).records) == 20
    engine.dispose()
