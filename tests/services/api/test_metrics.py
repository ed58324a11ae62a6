"""``/metrics``: queue depth, evidence and age per stratum from the database; claims, submissions, skips and
lease expiries as counters; each annotator's consensus agreement; requests per route."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from starlette.types import Message

from services.api.app import ApiConfig, create_app
from services.api.metrics import DISCONNECTED
from services.api.tokens import Role
from services.db.engine import make_engine, session_factory
from tests.services.api.helpers import (
    ADMIN,
    ADMIN_TOKEN,
    COCO_BODY,
    ClientFactory,
    add,
    add_tasks,
    comparison,
    frame_tasks,
    task,
    token,
)

SHORT = ApiConfig(lease_s=0.3, sweep_every_s=0.05)
NAMED = ApiConfig(metrics_names=True)


def _samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _unique(prefix: str) -> str:
    """Counters live in the process's registry across tests: fresh label values make their values exact."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _past_deadline(deadline: float) -> None:
    while time.time() <= deadline:
        time.sleep(0.02)


def test_queue_gauges_follow_claims_submissions_and_skips(engine: Engine, make_client: ClientFactory) -> None:
    client = make_client(config=NAMED)
    rain, fog = _unique("weather=rain"), _unique("weather=fog")
    add_tasks(engine, [t for i in (1, 2, 3) for t in frame_tasks(i, stratum=rain)]
              + [t for i in (4, 5) for t in frame_tasks(i, stratum=fog)])
    a, b = _unique("a"), _unique("b")
    ha, hb = token(engine, a, Role.ANNOTATOR), token(engine, b, Role.ANNOTATOR)
    before = _samples(client)
    assert _value(before, "shadowqa_queue_depth", stratum=rain, state="queued") == 3
    assert _value(before, "shadowqa_queue_depth", stratum=fog, state="queued") == 2
    assert _value(before, "shadowqa_queue_oldest_seconds", stratum=rain) > 0

    first = client.post("/v1/tasks/claim", headers=ha).json()
    assert client.post(f"/v1/tasks/{first['task_id']}/submit", json=COCO_BODY, headers=ha).status_code == 200
    second = client.post("/v1/tasks/claim", headers=ha).json()
    skipped = client.post("/v1/tasks/claim", headers=hb).json()["task_id"]
    assert client.post(f"/v1/tasks/{skipped}/skip", json={"reason": "dark"}, headers=hb).status_code == 204

    after = _samples(client)
    assert (first["stratum"], second["stratum"], skipped) == (rain, fog, "driving-s0-000005/1"), "least evidence"
    assert {state: _value(after, "shadowqa_queue_depth", stratum=rain, state=state)
            for state in ("queued", "leased", "requeued")} == {"queued": 2, "leased": 0, "requeued": 0}
    assert {state: _value(after, "shadowqa_queue_depth", stratum=fog, state=state)
            for state in ("queued", "leased", "requeued")} == {"queued": 0, "leased": 1, "requeued": 1}
    assert (_value(after, "shadowqa_queue_evidence", stratum=rain), _value(after, "shadowqa_queue_evidence",
                                                                           stratum=fog)) == (1, 0)
    assert [_value(after, f"shadowqa_tasks_{what}_total", annotator=who) for what, who in [
        ("claimed", a), ("submitted", a), ("skipped", a), ("claimed", b), ("submitted", b), ("skipped", b)]] == [
        2, 1, 0, 1, 0, 1]
    claims = dict(method="POST", route="/v1/tasks/claim", status="200")
    assert _value(after, "shadowqa_api_requests_total", **claims) - _value(before, "shadowqa_api_requests_total",
                                                                          **claims) == 3


def test_an_expiry_found_by_a_claim_is_counted_once(engine: Engine, make_client: ClientFactory) -> None:
    client = make_client(config=SHORT)  # no sweeper thread: the next claim finds the lease run out
    stratum = _unique("weather=fog")
    (tid,) = add_tasks(engine, frame_tasks(1, stratum=stratum))
    away, next_one = token(engine, _unique("away"), Role.ANNOTATOR), token(engine, _unique("next"), Role.ANNOTATOR)
    _past_deadline(client.post("/v1/tasks/claim", headers=away).json()["lease_deadline"])
    assert client.post("/v1/tasks/claim", headers=next_one).json()["task_id"] == tid
    samples = _samples(client)
    assert _value(samples, "shadowqa_lease_expiries_total", stratum=stratum) == 1
    assert _value(samples, "shadowqa_queue_depth", stratum=stratum, state="leased") == 1


def test_an_expiry_found_by_the_sweeper_is_counted_once(engine: Engine, make_client: ClientFactory) -> None:
    client = make_client(config=SHORT, background=True)
    stratum = _unique("weather=clear")
    (tid,) = add_tasks(engine, frame_tasks(1, stratum=stratum))
    _past_deadline(client.post("/v1/tasks/claim", headers=token(engine, "away", Role.ANNOTATOR)
                               ).json()["lease_deadline"])
    for _ in range(200):  # the sweeper runs every 0.05 s
        if _value(_samples(client), "shadowqa_queue_depth", stratum=stratum, state="requeued") == 1:
            break
        time.sleep(0.05)
    time.sleep(4 * SHORT.sweep_every_s)  # more sweeps: none may count it again
    samples = _samples(client)
    assert _value(samples, "shadowqa_queue_depth", stratum=stratum, state="requeued") == 1
    assert _value(samples, "shadowqa_lease_expiries_total", stratum=stratum) == 1
    with session_factory(engine)() as s:
        assert task(s, tid).expiries == 1


def test_consensus_agreement_per_annotator(engine: Engine, make_client: ClientFactory) -> None:
    client = make_client(config=NAMED)
    add_tasks(engine, frame_tasks(10, copies=2) + frame_tasks(11, copies=2))
    a, b = _unique("a"), _unique("b")
    ha, hb = token(engine, a, Role.ANNOTATOR), token(engine, b, Role.ANNOTATOR)
    for _ in range(2):
        for headers in (ha, hb):
            tid = client.post("/v1/tasks/claim", headers=headers).json()["task_id"]
            assert client.post(f"/v1/tasks/{tid}/submit", json=COCO_BODY, headers=headers).status_code == 200
    add(engine, [comparison(10, accepted=True, kind="consensus"), comparison(11, accepted=False, kind="consensus"),
                 comparison(10, accepted=False)])  # the machine's comparison is not the people's agreement
    samples = _samples(client)
    for who in (a, b):
        assert _value(samples, "shadowqa_annotator_consensus_agreement", annotator=who) == 0.5
        assert _value(samples, "shadowqa_annotator_consensus_n", annotator=who) == 2


def test_without_metrics_names_no_annotator_is_named_and_the_team_agreement_is_shown(engine: Engine,
                                                                                    client: TestClient) -> None:
    add_tasks(engine, frame_tasks(10, copies=2) + frame_tasks(11, copies=2))
    a, b = _unique("alice"), _unique("bob")
    ha, hb = token(engine, a, Role.ANNOTATOR), token(engine, b, Role.ANNOTATOR)
    before = _samples(client)
    for _ in range(2):
        for headers in (ha, hb):
            tid = client.post("/v1/tasks/claim", headers=headers).json()["task_id"]
            assert client.post(f"/v1/tasks/{tid}/submit", json=COCO_BODY, headers=headers).status_code == 200
    add(engine, [comparison(10, accepted=True, kind="consensus"), comparison(11, accepted=False, kind="consensus"),
                 comparison(12, accepted=True, kind="consensus"), comparison(10, accepted=False)])
    text = client.get("/metrics").text
    assert a not in text and b not in text
    after = _samples(client)
    assert _value(after, "shadowqa_tasks_submitted_total", annotator="all") - _value(
        before, "shadowqa_tasks_submitted_total", annotator="all") == 4
    assert _value(after, "shadowqa_annotator_consensus_agreement", annotator="all") == 2 / 3
    assert _value(after, "shadowqa_annotator_consensus_n", annotator="all") == 3
    assert {labels for name, labels in after if name.startswith("shadowqa_annotator_")} == {
        frozenset({("annotator", "all")})}


def test_labels_come_from_fixed_sets_whatever_the_client_sends(client: TestClient) -> None:
    for k in range(50):
        client.request(f"INVENTED{k}", "/v1/tasks/claim")
        client.get(f"/no/such/path/{k}")
        client.request(f"BREW{k}", f"/nowhere/{k}")
    size = len(client.get("/metrics").content)
    for k in range(50, 300):
        client.request(f"INVENTED{k}", "/v1/tasks/claim")
        client.get(f"/no/such/path/{k}")
        client.request(f"BREW{k}", f"/nowhere/{k}")
    text = client.get("/metrics").text
    assert "INVENTED" not in text and "BREW" not in text and "/no/such" not in text
    assert len(text.encode()) - size < 200, "300 more odd requests added no series"
    samples = _samples(client)
    assert _value(samples, "shadowqa_api_requests_total", method="other", route="/v1/tasks/claim", status="405") >= 300
    assert _value(samples, "shadowqa_api_requests_total", method="GET", route="unmatched", status="404") >= 300


def _disconnect_mid_upload(client: TestClient, path: str) -> list[Message]:
    """What the API sends for a request whose client sends 10 bytes of a longer body, then goes away."""
    messages = iter([{"type": "http.request", "body": b"0123456789", "more_body": True},
                     {"type": "http.disconnect"}])
    sent: list[Message] = []

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "path": path,
             "raw_path": path.encode(), "root_path": "", "scheme": "http", "query_string": b"",
             "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80)}
    anyio.run(client.app, scope, receive, send)
    return sent


@pytest.mark.parametrize("path", ["/v1/tasks/t/1/submit", "/v1/admin/tokens", "/nowhere"])
def test_a_client_that_goes_away_mid_upload_is_counted_not_an_error(client: TestClient, path: str) -> None:
    """Nobody is left to answer: nothing is sent, nothing is raised (it was RuntimeError "No response returned.",
    a 500 and a traceback for any route, without a token), and the request is counted as disconnected."""
    route = "unmatched" if path == "/nowhere" else path.replace("t/1", "{task_id:path}")
    before = _value(_samples(client), "shadowqa_api_requests_total", method="POST", route=route,
                    status=DISCONNECTED)
    assert _disconnect_mid_upload(client, path) == []
    assert _value(_samples(client), "shadowqa_api_requests_total", method="POST", route=route,
                  status=DISCONNECTED) == before + 1


def test_a_request_that_fails_is_counted_as_the_500_it_gets(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}")
    with TestClient(create_app(engine, admin_token=ADMIN_TOKEN, background=False),
                    raise_server_exceptions=False) as client:
        before = _value(_samples(client), "shadowqa_api_requests_total", method="GET", route="/v1/stats", status="500")
        assert client.get("/v1/stats", headers=ADMIN).status_code == 500  # no such table
        after = _value(_samples(client), "shadowqa_api_requests_total", method="GET", route="/v1/stats", status="500")
    engine.dispose()
    assert after == before + 1
