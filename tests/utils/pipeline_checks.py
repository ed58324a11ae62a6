"""Checks of a pipeline run on the real broker, shared by the pipeline, fault and scale tests."""

from __future__ import annotations

from kafka import KafkaConsumer  # type: ignore[import-untyped, unused-ignore]
from kafka.structs import TopicPartition  # type: ignore[import-untyped, unused-ignore]

from services.datasets.profiles import DRIVING
from services.loop.config import LoopConfig
from services.loop.tally import Tally

# a reachable target, so the recommender certifies thresholds and the router follows the published policies
REACHABLE = LoopConfig(target=0.5, dataset=DRIVING.name)


def frame_ids(seed: int, n: int) -> set[str]:
    """The ids of the ``n`` frames a run of ``seed`` feeds."""
    return {f"driving-s{seed}-{i:06d}" for i in range(n)}


def records_written(bootstrap: str, topic: str) -> int:
    """Records on the broker in ``topic`` (its partitions' end offsets summed): what a fault test acts on, since
    the run's tally is a reader that can fall behind on a loaded machine."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(tps).values()) if tps else 0
    finally:
        consumer.close()


def check_counted_once(t: Tally) -> None:
    """Every task annotated; every annotation compared once; every comparison counted once, none twice."""
    assert t.annotated == t.tasks
    expected = {(f, "machine") for f, copy in t.annotated if copy == 1 and f not in t.failed}
    expected |= {(f, "consensus") for f, copy in t.annotated if copy == 2}
    assert t.comparisons == expected
    assert t.aggregated == len(expected)  # the agreement stats include each comparison exactly once
    machine = sum(s.n for s in t.stats.values())
    assert machine == sum(kind == "machine" for _, kind in expected)
