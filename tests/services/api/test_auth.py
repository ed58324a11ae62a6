"""Who may call what: tokens (missing, wrong, revoked), roles, and annotators confined to their own leases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.api.tokens import Role
from services.db.models import RecommendationRow
from tests.services.api.helpers import ADMIN, COCO_BODY, add, add_tasks, bearer, manual_task, token

SKIP_BODY = {"reason": "cannot see"}
EXPORT = {"format": "cvat", "assignee": "team"}
IMPORT_QUERY = "?format=cvat&assignee=team"


def _task_steps(tid: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [("GET", f"/v1/tasks/{tid}", None), ("POST", f"/v1/tasks/{tid}/heartbeat", None),
            ("POST", f"/v1/tasks/{tid}/submit", COCO_BODY), ("POST", f"/v1/tasks/{tid}/skip", SKIP_BODY),
            ("GET", f"/v1/tasks/{tid}/image", None)]


QUEUE = [("POST", "/v1/tasks/claim", None), ("GET", "/v1/tasks", None), *_task_steps("driving-s0-000001/1")]
READING = [("GET", "/v1/gates/*?target=0.5", None), ("GET", "/v1/gates/weather=rain?target=0.5", None),
           ("POST", "/v1/gates/*/flagger", {"metadata": {"target": "0.5"}}), ("GET", "/v1/stats", None),
           ("GET", "/v1/recommendations", None), ("GET", "/v1/policy", None)]
ADMINISTERING = [("GET", "/v1/admin/tokens", None), ("POST", "/v1/admin/tokens", {"name": "x", "role": "reader"}),
                 ("DELETE", "/v1/admin/tokens/someone", None), ("POST", "/v1/admin/tokens/someone/rotate", None),
                 ("POST", "/v1/admin/batches/export", EXPORT),
                 ("POST", f"/v1/admin/batches/import{IMPORT_QUERY}", None),
                 ("POST", "/v1/policy", {"stratum": "*", "threshold": 0.9, "reason": "certified"}),
                 ("DELETE", "/v1/policy/pins/weather=fog", None)]
EVERYTHING = QUEUE + READING + ADMINISTERING


def _call(client: TestClient, step: tuple[str, str, dict[str, Any] | None], headers: dict[str, str]) -> int:
    method, url, body = step
    if url.startswith("/v1/admin/batches/import"):
        return client.post(url, content=b"<annotations/>", headers={**headers, "Content-Type": "application/xml"}
                           ).status_code
    return client.request(method, url, json=body, headers=headers).status_code


def _ids(steps: list[tuple[str, str, Any]]) -> list[str]:
    return [f"{m} {u}" for m, u, _ in steps]


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    add_tasks(engine, [manual_task(1), manual_task(2)])
    add(engine, [RecommendationRow(stratum="all", thresholds={"all": 0.9}, automation_rate=0.2, action="raise",
                                   reason="certified", policy_version=0, time=1.0)])
    return engine


def _answers(client: TestClient, steps: list[tuple[str, str, Any]], headers: dict[str, str]) -> dict[str, int]:
    return {f"{method} {url}": _call(client, (method, url, body), headers) for method, url, body in steps}


def test_without_a_valid_token_everything_but_health_is_401(seeded: Engine, client: TestClient) -> None:
    for headers in ({}, bearer("sqa_not-a-token"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        assert set(_answers(client, EVERYTHING, headers).values()) == {401}
    assert client.get("/healthz").status_code == 200


def test_a_revoked_token_is_refused_from_then_on(seeded: Engine, client: TestClient) -> None:
    created = client.post("/v1/admin/tokens", json={"name": "leaver", "role": "annotator"}, headers=ADMIN)
    assert created.status_code == 201
    leaver = bearer(created.json()["token"])
    assert client.post("/v1/tasks/claim", headers=leaver).status_code == 200
    assert client.delete("/v1/admin/tokens/leaver", headers=ADMIN).status_code == 204
    assert client.get("/v1/tasks", headers=leaver).status_code == 401
    assert client.post("/v1/tasks/claim", headers=leaver).status_code == 401
    (listed,) = client.get("/v1/admin/tokens", headers=ADMIN).json()
    assert (listed["name"], listed["revoked"], listed["token"]) == ("leaver", True, None)


def test_an_annotator_cannot_touch_another_annotators_task(seeded: Engine, client: TestClient) -> None:
    alice, bob = token(seeded, "alice", Role.ANNOTATOR), token(seeded, "bob", Role.ANNOTATOR)
    tid = client.post("/v1/tasks/claim", headers=alice).json()["task_id"]
    for step in _task_steps(tid):
        assert _call(client, step, bob) == 404, step
    for step in _task_steps("driving-s0-999999/1"):  # an unknown task answers the same: no probing
        assert _call(client, step, bob) == 404, step
    assert client.get("/v1/tasks", headers=bob).json() == []
    assert client.get(f"/v1/tasks/{tid}", headers=alice).status_code == 200, "untouched by bob's attempts"
    assert client.get(f"/v1/tasks/{tid}/image", headers=alice).headers["content-type"] == "image/png"
    assert client.post(f"/v1/tasks/{tid}/submit", json=COCO_BODY, headers=alice).status_code == 200


def test_an_annotator_sees_no_automation_output_and_administers_nothing(seeded: Engine, client: TestClient) -> None:
    steps = READING + ADMINISTERING
    assert _answers(client, steps, token(seeded, "carol", Role.ANNOTATOR)) == dict.fromkeys(_ids(steps), 403)


def test_a_reader_neither_works_the_queue_nor_administers(seeded: Engine, client: TestClient) -> None:
    steps = QUEUE + ADMINISTERING
    assert _answers(client, steps, token(seeded, "dashboard", Role.READER)) == dict.fromkeys(_ids(steps), 403)


def test_an_admin_does_not_work_the_queue(seeded: Engine, client: TestClient) -> None:
    for headers in (ADMIN, token(seeded, "boss", Role.ADMIN)):
        assert _answers(client, QUEUE, headers) == dict.fromkeys(_ids(QUEUE), 403)


def test_readers_and_admins_read_gates_stats_and_recommendations(seeded: Engine, client: TestClient) -> None:
    for headers in (token(seeded, "dashboard", Role.READER), ADMIN):
        assert list(_answers(client, READING, headers).values()) == [200, 200, 412, 200, 200, 200]


def test_an_admin_token_from_the_database_administers(seeded: Engine, client: TestClient) -> None:
    boss = token(seeded, "boss", Role.ADMIN)
    made = client.post("/v1/admin/tokens", json={"name": "new-reader", "role": "reader"}, headers=boss)
    assert made.status_code == 201 and made.json()["created_by"] == "boss"
    assert client.post("/v1/admin/tokens", json={"name": "new-reader", "role": "reader"}, headers=boss
                       ).status_code == 409
    assert client.delete("/v1/admin/tokens/nobody", headers=boss).status_code == 404
    assert client.get("/v1/stats", headers=bearer(made.json()["token"])).status_code == 200
