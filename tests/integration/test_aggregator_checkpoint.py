"""The aggregator restarts from its checkpoint and the tail: nothing lost to retention, nothing counted twice.

Comparisons are produced straight into ``comparisons`` (the restart benchmark's synthetic history: distinct
frames, ten strata, one consensus pair in ten). An aggregator counts them and checkpoints; it is stopped; every
record before the checkpoint is deleted (``DeleteRecords``, what retention does to old segments); more
comparisons arrive, with re-sent copies of recent ones (a comparator's replay after a crash). The restarted
aggregator must publish the statistics and recommendations of the whole stream counted once, as the loop's
folds compute them offline, without having read the deleted records.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # type: ignore[import-untyped, unused-ignore]

from benchmarks.aggregator_restart import _record
from services.infra.topic_names import TopicNames
from services.infra.topics import TopicSpec, create_topics, topic_layout
from services.loop.aggregation import Aggregation
from services.loop.config import LoopConfig
from services.loop.messages import AgreementStats, ComparisonMessage, RecommendationMessage, decode
from services.loop.recommend import recommendation_message
from services.settings import Settings
from services.tools.pipeline_run import delete_run_topics
from services.tools.snapshot import read_topic
from services.tools.supervisor import Supervisor
from services.tools.worker_args import loop_args
from streams.agents.aggregator import state_topic
from streams.checkpoint import KEY, MAX_BYTES, Checkpoint
from tests.services.infra.fakes import free_port
from tests.streams.scrape import scrape
from tests.utils.progress import wait_for

CONFIG = LoopConfig(window=100)
FIRST, TAIL, REPLAYED = 3000, 1500, 200  # comparisons before the checkpoint, after it, and re-sent copies


def _gauge(port: int, name: str) -> float:
    try:
        return sum(scrape(port, name).values())
    except OSError:
        return -1.0


def _produce(bootstrap: str, topic: str, values: list[bytes], key: bytes | None = None) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all", max_request_size=MAX_BYTES)
    for value in values:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()


def _beginning(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        tp = TopicPartition(topic, 0)
        return int(consumer.beginning_offsets([tp])[tp])
    finally:
        consumer.close()


def _published(bootstrap: str, names: TopicNames) -> tuple[list[RecommendationMessage], dict[str, AgreementStats]]:
    recommendations = [decode(RecommendationMessage, r.value)
                       for r in read_topic(bootstrap, names.recommendations).records]
    stats: dict[str, AgreementStats] = {}
    for r in read_topic(bootstrap, names.agreement_stats).records:
        s = decode(AgreementStats, r.value)
        stats[s.stratum] = s  # the latest per stratum
    return recommendations, stats


def _essence(m: RecommendationMessage) -> tuple[object, ...]:
    return m.thresholds, m.automation_rate, m.action, m.reason, m.policy_version


@pytest.mark.faults
def test_a_restart_after_retention_deleted_the_counted_records_reaches_the_same_stats_and_recommendations(
    settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    bootstrap, topic, port = settings.kafka_bootstrap, run_topics.comparisons, free_port()
    history = [_record(i) for i in range(FIRST + TAIL)]
    args = [*loop_args(CONFIG), "--checkpoint-interval", "0.5"]
    with Supervisor(run_topics.prefix, tmp_path / "logs", worker_args=args,
                    metrics_ports={"aggregator": port}) as supervisor:
        _produce(bootstrap, topic, history[:FIRST])
        supervisor.start("aggregator")
        supervisor.wait_ready()
        wait_for("the first checkpoint", lambda: _gauge(port, "shadowqa_aggregator_checkpoint_offset"),
              lambda v: v >= FIRST, supervisor)
        supervisor.stop()

        with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
            admin.delete_records({TopicPartition(topic, 0): FIRST})
        assert _beginning(bootstrap, topic) == FIRST  # the counted history is gone from the topic
        _produce(bootstrap, topic, history[FIRST - REPLAYED:FIRST] + history[FIRST:])  # replayed copies first

        supervisor.start("aggregator", index=0)
        supervisor.wait_ready()
        machine = sum(decode(ComparisonMessage, v).kind == "machine" for v in history)
        wait_for("the restarted aggregator's stats", lambda: _gauge(port, "shadowqa_acceptance_n"),
              lambda v: v >= machine, supervisor)
        assert _gauge(port, "shadowqa_comparisons_counted_total") == TAIL  # the tail only: restored, not re-read
        log = (tmp_path / "logs" / "aggregator-0.log").read_text()
        assert "restored the checkpoint" in log

    offline = Aggregation(CONFIG)
    expected = [recommendation_message(r, 0.0) for r in offline.add(decode(ComparisonMessage, v) for v in history)]
    recommendations, stats = _published(bootstrap, run_topics)
    assert len(expected) >= 20
    assert [_essence(m) for m in recommendations] == [_essence(m) for m in expected]  # none lost, none twice
    want = {s.stratum: s for s in offline.stats(offline.folds, time=0.0)}
    assert stats.keys() == want.keys()
    for stratum, s in stats.items():
        w = want[stratum]
        assert (s.n, s.decision) == (w.n, w.decision), stratum
        assert s.estimate == pytest.approx(w.estimate, abs=1e-12) and s.lower == pytest.approx(w.lower, abs=1e-12)
        assert s.upper == pytest.approx(w.upper, abs=1e-12)


def test_a_checkpoint_it_cannot_use_is_said_and_the_topic_recounted(
    settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    """A checkpoint of an older state format, or one made under other loop settings, is never restored (nor a
    crash): the aggregator says why and counts what the topic holds from its beginning."""
    bootstrap, port = settings.kafka_bootstrap, free_port()
    state = Checkpoint(CONFIG.to_dict(), {"comparisons": 500, "policy-pins": 0}, 0, 0,
                       {"folds": {}, "recommending": {}, "counted": 500})  # no authority, no window: unreadable
    history = [_record(i) for i in range(1000)]
    other = Checkpoint({**CONFIG.to_dict(), "target": 0.9}, state.offsets, 0, 0, state.aggregation)
    for checkpoint, why in ((state, "cannot be read"), (other, "other loop settings (target)")):
        names = TopicNames(prefix=f"{run_topics.prefix}{len(why)}-")
        create_topics(bootstrap, topic_layout(names, 1, settings.retention_hours))
        create_topics(bootstrap, [TopicSpec(state_topic(names), 1, "compact", max_message_bytes=MAX_BYTES)])
        _produce(bootstrap, state_topic(names), [checkpoint.encode()], key=KEY)
        _produce(bootstrap, names.comparisons, history)
        with Supervisor(names.prefix, tmp_path / why, worker_args=loop_args(CONFIG),
                        metrics_ports={"aggregator": port}) as supervisor:
            supervisor.start("aggregator")
            supervisor.wait_ready()
            wait_for("the recount", lambda: _gauge(port, "shadowqa_comparisons_counted_total"),
                     lambda v: v >= len(history), supervisor)
        assert why in (tmp_path / why / "aggregator-0.log").read_text()
        delete_run_topics(bootstrap, names.prefix)
