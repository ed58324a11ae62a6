"""``/v1/policy``: people pin strata (published on ``policy-pins``, recorded with who pinned), release them, and
read the policy in force; the aggregator alone writes and numbers ``policies`` (analysis/policy/authority.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from analysis.policy.authority import Pin, PolicyAuthority, Release
from analysis.policy.automation import AutomationPolicy
from analysis.policy.pins import decode
from services.api.tokens import BOOTSTRAP, Role
from services.db.models import PolicyRow, RecommendationRow
from services.infra.topic_names import TopicNames
from tests.services.api.helpers import ADMIN, ClientFactory, add, token
from tests.services.tools.memory import MemorySink

TOPICS = TopicNames("t-")


@dataclass
class RefusingSink(MemorySink):
    """A broker that takes nothing: ``flush`` raises as KafkaSink's does when a send was not acknowledged."""

    def flush(self) -> None:
        raise ConnectionError("broker unavailable")


def _policy(version: int, thresholds: dict[str, float | None]) -> PolicyRow:
    return PolicyRow(version=version, default_threshold=None, thresholds=thresholds,
                     applied_by="recommender (auto-apply)", reason="certified", time=float(version))


def _published(sink: MemorySink) -> list[tuple[str, bytes, Pin | Release]]:
    return [(topic, key, decode(value)) for topic, key, value in sink.sent]


def test_a_pin_is_recorded_with_who_pinned_published_by_stratum_and_released(engine: Engine,
                                                                              make_client: ClientFactory) -> None:
    sink = MemorySink()
    client = make_client(sink=sink, names=TOPICS)
    lead, reader = token(engine, "lead", Role.ADMIN), token(engine, "ops", Role.READER)

    answer = client.post("/v1/policy", json={"stratum": "weather=fog", "threshold": 0.95, "reason": "audit"},
                         headers=lead)
    assert answer.status_code == 202, answer.text
    pinned = answer.json()
    assert (pinned["stratum"], pinned["threshold"], pinned["pinned_by"], pinned["reason"]) == (
        "weather=fog", 0.95, "lead", "audit")
    assert client.post("/v1/policy", json={"stratum": "*", "threshold": None, "reason": "stop"},
                       headers=ADMIN).status_code == 202
    ((topic, key, event), (_, default_key, default)) = _published(sink)
    assert (topic, key, event) == (TOPICS.policy_pins, b"weather=fog", Pin("weather=fog", 0.95, "lead", "audit",
                                                                          pinned["time"]))
    assert isinstance(default, Pin) and (default_key, default.stratum, default.tau) == (b"*", "*", math.inf)
    listed = client.get("/v1/policy", headers=reader).json()
    assert listed["policy"] is None
    assert [(p["stratum"], p["threshold"], p["pinned_by"]) for p in listed["pins"]] == [
        ("*", None, BOOTSTRAP), ("weather=fog", 0.95, "lead")]

    assert client.post("/v1/policy", json={"stratum": "weather=fog", "threshold": 0.9, "reason": "r"},
                       headers=ADMIN).status_code == 202  # a new pin of the stratum replaces the earlier one
    released = client.delete("/v1/policy/pins/weather=fog", headers=lead)
    assert released.status_code == 202, released.text
    assert (released.json()["released_by"], released.json()["pin"]["threshold"]) == ("lead", 0.9)
    assert _published(sink)[-1][1:] == (b"weather=fog", Release("weather=fog", "lead", "", released.json()["time"]))
    assert [p["stratum"] for p in client.get("/v1/policy", headers=reader).json()["pins"]] == ["*"]
    assert client.delete("/v1/policy/pins/weather=fog", headers=lead).status_code == 404
    assert len(sink.sent) == 4


def test_what_the_api_publishes_holds_over_recommendations_until_released(engine: Engine,
                                                                          make_client: ClientFactory) -> None:
    sink = MemorySink()
    client = make_client(sink=sink, names=TOPICS)
    client.post("/v1/policy", json={"stratum": "weather=fog", "threshold": 0.97, "reason": "r"}, headers=ADMIN)
    authority = PolicyAuthority().recommend(AutomationPolicy(0.9, {"weather=fog": 0.6}))
    for _, _, event in _published(sink):
        authority = authority.absorb(event)
    pinned_version = authority.version
    authority = authority.recommend(AutomationPolicy(0.9, {"weather=fog": 0.5}))
    assert (authority.effective().threshold("weather=fog"), authority.version) == (0.97, pinned_version)
    client.delete("/v1/policy/pins/weather=fog", headers=ADMIN)
    authority = authority.absorb(_published(sink)[-1][2])
    assert (authority.effective().threshold("weather=fog"), authority.version) == (0.5, pinned_version + 1)


def test_the_policy_in_force_is_the_latest_the_aggregator_published(engine: Engine, client: TestClient) -> None:
    add(engine, [_policy(1, {"all": 0.9}), _policy(5, {"all": 0.8, "weather=fog": None})])
    current = client.get("/v1/policy", headers=ADMIN).json()["policy"]
    assert (current["version"], current["thresholds"], current["default"]) == (
        5, {"all": 0.8, "weather=fog": None}, None)


def test_when_kafka_does_not_take_the_record_nothing_changes(engine: Engine, make_client: ClientFactory) -> None:
    good, refusing = MemorySink(), RefusingSink()
    make_client(sink=good, names=TOPICS).post("/v1/policy", json={"stratum": "a", "threshold": 0.9, "reason": "r"},
                                              headers=ADMIN)
    client = make_client(sink=refusing, names=TOPICS)
    for answer in (client.post("/v1/policy", json={"stratum": "b", "threshold": 0.9, "reason": "r"}, headers=ADMIN),
                   client.post("/v1/policy", json={"stratum": "a", "threshold": 0.5, "reason": "r"}, headers=ADMIN),
                   client.delete("/v1/policy/pins/a", headers=ADMIN)):
        assert answer.status_code == 503 and "broker unavailable" in answer.json()["detail"]
    assert [(p["stratum"], p["threshold"]) for p in client.get("/v1/policy", headers=ADMIN).json()["pins"]] == [
        ("a", 0.9)]


def test_without_kafka_nothing_can_be_pinned(engine: Engine, client: TestClient) -> None:
    assert client.post("/v1/policy", json={"stratum": "a", "threshold": 0.9, "reason": "r"},
                       headers=ADMIN).status_code == 503
    assert client.get("/v1/policy", headers=ADMIN).json() == {"policy": None, "pins": []}


def _recommendation(engine: Engine, policy_version: int, thresholds: dict[str, float | None]) -> int:
    row = RecommendationRow(stratum="all", thresholds=thresholds, automation_rate=0.4, action="raise",
                            reason="certified", policy_version=policy_version, time=1.0)
    add(engine, [row])
    return row.id


def test_recommendations_are_listed_newest_first(engine: Engine, client: TestClient) -> None:
    first, second = _recommendation(engine, 1, {"all": 0.9}), _recommendation(engine, 2, {"all": 0.8})
    listed = client.get("/v1/recommendations?limit=5", headers=ADMIN).json()
    assert [(r["id"], r["policy_version"], r["thresholds"]) for r in listed] == [
        (second, 2, {"all": 0.8}), (first, 1, {"all": 0.9})]
    assert [r["id"] for r in client.get("/v1/recommendations?limit=1", headers=ADMIN).json()] == [second]
