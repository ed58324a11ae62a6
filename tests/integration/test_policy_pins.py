"""A person's pin beats the recommender online, and a release lets it through: the aggregator as the one writer.

An aggregator with auto-apply counts comparisons that make the recommender raise the automation rate (machine
comparisons audited at π = 1 whose acceptance grows with confidence, 0.5 + 0.5·c, against a target of 0.8). A
person has pinned the default threshold (``*``) at 0.99 on ``policy-pins``, as ``POST /v1/policy`` records it:
every policy the aggregator publishes while the pin holds keeps τ = 0.99 and names who pinned it, whatever the
recommendations say. The release lets the recommender's latest threshold through in the next policy. Versions
only increase and number only changes of the thresholds in force.
"""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaProducer  # type: ignore[import-untyped, unused-ignore]

from analysis.policy import pins
from services.infra.topic_names import TopicNames
from services.loop.config import LoopConfig
from services.loop.messages import ComparisonMessage, PolicyMessage, RecommendationMessage, decode, encode
from services.settings import Settings
from services.tools.snapshot import read_topic
from services.tools.supervisor import Supervisor
from services.tools.worker_args import loop_args
from tests.utils.progress import wait_for

CONFIG = LoopConfig(target=0.8, window=100)
PIN = pins.Pin("*", 0.99, "ops-lead", "hold the default while the new camera is checked")
FIRST, SECOND = 2000, 1000  # comparisons while pinned, after the release


def _comparison(i: int) -> bytes:
    confidence = ((i * 7919) % 1000) / 1000
    return encode(ComparisonMessage(
        frame_id=f"f{i:06d}", kind="machine", accepted=((i * 104729) % 1000) / 1000 < 0.5 + 0.5 * confidence,
        inclusion_prob=1.0, confidence=confidence, model_version="m1", time=1.7e9 + i / 10, tp=3, fp=0, fn=1,
        mean_iou=0.8))


def _send(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    for key, value in records:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()


def _topic(bootstrap: str, topic: str) -> list[bytes]:
    return [r.value for r in read_topic(bootstrap, topic).records]


def test_a_pin_holds_against_recommendations_and_a_release_lets_the_recommender_through(
    settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    bootstrap, names = settings.kafka_bootstrap, run_topics
    history = [_comparison(i) for i in range(FIRST + SECOND)]
    _send(bootstrap, names.policy_pins, [(b"*", pins.encode(PIN))])
    with Supervisor(names.prefix, tmp_path / "logs", worker_args=loop_args(CONFIG)) as supervisor:
        supervisor.start("aggregator")
        supervisor.wait_ready()
        wait_for("the pin in force", lambda: len(_topic(bootstrap, names.policies)), lambda n: n >= 1, supervisor)
        _send(bootstrap, names.comparisons, [(None, v) for v in history[:FIRST]])
        wait_for("the pinned run's recommendations", lambda: len(_topic(bootstrap, names.recommendations)),
                 lambda n: n >= FIRST // CONFIG.window, supervisor)
        pinned = [decode(PolicyMessage, v) for v in _topic(bootstrap, names.policies)]
        _send(bootstrap, names.policy_pins, [(b"*", pins.encode(pins.Release("*", "ops-lead", "camera checked")))])
        wait_for("the release in force", lambda: decode(PolicyMessage, _topic(bootstrap, names.policies)[-1]).default,
                 lambda default: default != 0.99, supervisor)
        _send(bootstrap, names.comparisons, [(None, v) for v in history[FIRST:]])
        total = (FIRST + SECOND) // CONFIG.window
        wait_for("every recommendation", lambda: len(_topic(bootstrap, names.recommendations)),
                 lambda n: n >= total, supervisor)
    recommendations = [decode(RecommendationMessage, v) for v in _topic(bootstrap, names.recommendations)]
    policies = [decode(PolicyMessage, v) for v in _topic(bootstrap, names.policies)]

    raised = [r for r in recommendations[:FIRST // CONFIG.window] if r.action == "raise"]
    assert raised, "the recommender must want to move the threshold for the pin to have something to hold"
    assert all(p.default == 0.99 and p.pinned == {"*": "ops-lead"} for p in pinned), pinned
    assert pinned[0].version == 1 and len({p.version for p in pinned}) == 1  # the recommendations changed nothing
    released = policies[len(pinned)]
    assert released.pinned == {} and released.version == 2
    assert released.default == recommendations[FIRST // CONFIG.window - 1].thresholds["all"]
    versions = [p.version for p in policies]
    assert versions == sorted(versions)
    thresholds = {p.version: (p.default, p.thresholds) for p in policies}
    assert all(thresholds[p.version] == (p.default, p.thresholds) for p in policies)  # one policy per version
    assert recommendations[-1].policy_version == policies[-1].version  # one numbering
