"""``POST /v1/policies``: a recommendation becomes the next policy version, recorded with who applied it, and
is published to Kafka; when Kafka does not take it, nothing is recorded (503)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from services.api.tokens import BOOTSTRAP, Role
from services.db.engine import session_factory
from services.db.models import PolicyRow, RecommendationRow
from services.infra.topic_names import TopicNames
from services.loop.messages import PolicyMessage, decode
from tests.services.api.helpers import ADMIN, ClientFactory, add, token
from tests.services.tools.memory import MemorySink

TOPICS = TopicNames("t-")
THRESHOLDS = {"all": 0.9, "weather=fog": None}


@dataclass
class RefusingSink(MemorySink):
    """A broker that takes nothing: ``flush`` raises as KafkaSink's does when a send was not acknowledged."""

    def flush(self) -> None:
        raise ConnectionError("broker unavailable")


def _recommendation(engine: Engine, policy_version: int, thresholds: dict[str, float | None]) -> int:
    row = RecommendationRow(stratum="all", thresholds=thresholds, automation_rate=0.4, action="raise",
                            reason="certified", policy_version=policy_version, time=1.0)
    add(engine, [row])
    return row.id


def _policy(version: int) -> PolicyRow:
    return PolicyRow(version=version, default_threshold=0.95, thresholds={}, applied_by="recommender",
                     reason="start", time=1.0)


def _policies(engine: Engine) -> list[tuple[int, str, dict[str, float | None], str]]:
    with session_factory(engine)() as s:
        return [(p.version, p.applied_by, p.thresholds, p.reason)
                for p in s.scalars(select(PolicyRow).order_by(PolicyRow.version)).all()]


def test_applying_a_recommendation_records_and_publishes_the_next_version(engine: Engine,
                                                                          make_client: ClientFactory) -> None:
    sink = MemorySink()
    client = make_client(sink=sink, names=TOPICS)
    add(engine, [_policy(1), _policy(5)])
    rec = _recommendation(engine, 3, THRESHOLDS)
    lead = token(engine, "lead", Role.ADMIN)

    answer = client.post("/v1/policies", json={"recommendation_id": rec, "reason": "gate passed"}, headers=lead)
    assert answer.status_code == 201, answer.text
    applied = answer.json()
    assert (applied["version"], applied["applied_by"], applied["thresholds"], applied["default"]) == (
        6, "lead", THRESHOLDS, None)
    assert _policies(engine)[-1] == (6, "lead", THRESHOLDS, "gate passed")
    ((topic, key, value),) = sink.sent
    assert (topic, key) == (TOPICS.policies, b"policy")
    published = decode(PolicyMessage, value)
    assert published.model_dump(mode="json", exclude={"schema_version"}) == applied
    assert sink.flushes >= 1

    again = client.post("/v1/policies", json={"recommendation_id": rec, "reason": "again"}, headers=ADMIN)
    assert (again.json()["version"], again.json()["applied_by"]) == (7, BOOTSTRAP)
    ahead = _recommendation(engine, 40, {"all": 0.5})  # made under a newer policy than any recorded here
    assert client.post("/v1/policies", json={"recommendation_id": ahead, "reason": "r"}, headers=lead
                       ).json()["version"] == 41
    assert [v for v, *_ in _policies(engine)] == [1, 5, 6, 7, 41]
    assert [decode(PolicyMessage, v).version for _, _, v in sink.sent] == [6, 7, 41]


def test_when_kafka_does_not_take_the_policy_nothing_is_applied(engine: Engine, make_client: ClientFactory) -> None:
    client = make_client(sink=RefusingSink(), names=TOPICS)
    add(engine, [_policy(1)])
    rec = _recommendation(engine, 1, THRESHOLDS)
    answer = client.post("/v1/policies", json={"recommendation_id": rec, "reason": "r"}, headers=ADMIN)
    assert answer.status_code == 503
    assert "broker unavailable" in answer.json()["detail"]
    assert [v for v, *_ in _policies(engine)] == [1]


def test_without_kafka_or_without_the_recommendation_there_is_nothing_to_apply(engine: Engine,
                                                                               make_client: ClientFactory) -> None:
    rec = _recommendation(engine, 1, THRESHOLDS)
    assert make_client().post("/v1/policies", json={"recommendation_id": rec, "reason": "r"},
                              headers=ADMIN).status_code == 503
    sink = MemorySink()
    missing = make_client(sink=sink).post("/v1/policies", json={"recommendation_id": rec + 1, "reason": "r"},
                                          headers=ADMIN)
    assert missing.status_code == 404
    assert _policies(engine) == [] and sink.sent == []


def test_recommendations_are_listed_newest_first_with_the_id_to_apply(engine: Engine, client: TestClient) -> None:
    first, second = _recommendation(engine, 1, {"all": 0.9}), _recommendation(engine, 2, {"all": 0.8})
    listed = client.get("/v1/recommendations?limit=5", headers=ADMIN).json()
    assert [(r["id"], r["policy_version"], r["thresholds"]) for r in listed] == [
        (second, 2, {"all": 0.8}), (first, 1, {"all": 0.9})]
    assert [r["id"] for r in client.get("/v1/recommendations?limit=1", headers=ADMIN).json()] == [second]
