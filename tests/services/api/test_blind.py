"""Annotators work blind: nothing an annotator can get from the API carries the machine's answer.

Checked twice: in the OpenAPI document (no response schema of an annotator's endpoint has a machine field)
and in real responses, with the machine's comparisons, stats and recommendations for the same frames in the
database.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.api.tokens import Role
from services.db.models import RecommendationRow, StatsRow
from tests.services.api.helpers import ADMIN, COCO_BODY, add, add_tasks, comparison, manual_task, token

MACHINE_FIELDS = {
    "boxes", "bbox", "scores", "score", "category_ids", "confidence", "tag_scores", "inclusion_prob", "consensus_prob",
    "weight", "accepted", "tp", "fp", "fn", "mean_iou", "model_version", "estimate", "lower", "upper", "decision",
    "thresholds", "threshold", "automation_rate", "policy_version", "inference_ms",
}
MODEL = "secret-detector@feedbeef"
PI, CONFIDENCE = 0.1234567, 0.7654321  # values no honest task view would happen to contain


def _annotator_operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every operation an annotator token may call: the queue, and the unauthenticated ops endpoints."""
    return {f"{method.upper()} {path}": op for path, ops in spec["paths"].items() for method, op in ops.items()
            if path.startswith("/v1/tasks") or path in ("/healthz", "/readyz")}


def _names(schema: Any, spec: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property name reachable from ``schema`` ($refs followed, each component once)."""
    if isinstance(schema, list):
        return set().union(*(_names(s, spec, seen) for s in schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    names: set[str] = set()
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        seen.add(ref)
        names |= _names(spec["components"]["schemas"][ref.rsplit("/", 1)[1]], spec, seen)
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            names |= set(value)
        names |= _names(value, spec, seen)
    return names


def test_no_response_schema_of_an_annotators_endpoint_has_a_machine_field(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = _annotator_operations(spec)
    assert {"POST /v1/tasks/claim", "GET /v1/tasks", "GET /v1/tasks/{task_id}", "POST /v1/tasks/{task_id}/submit",
            "POST /v1/tasks/{task_id}/heartbeat", "POST /v1/tasks/{task_id}/skip",
            "GET /v1/tasks/{task_id}/image"} <= set(operations)
    shown: set[str] = set()
    for name, op in operations.items():
        found = _names(op.get("responses", {}), spec, set())
        assert found & MACHINE_FIELDS == set(), name
        shown |= found
    assert {"task_id", "frame_id", "image_url", "lease_deadline", "submitted_at"} <= shown, "the walk reached them"


def _keys(document: Any) -> set[str]:
    if isinstance(document, dict):
        return set(document) | set().union(*(_keys(v) for v in document.values()))
    if isinstance(document, list):
        return set().union(*(_keys(v) for v in document)) if document else set()
    return set()


def _with_machine_output(engine: Engine) -> None:
    """Three frames' tasks, and for the same frames what the machine side produced."""
    add_tasks(engine, [manual_task(i, pi=PI, stratum="weather=rain") for i in (1, 2, 3)])
    add(engine, [comparison(i, accepted=True, pi=PI, stratum="weather=rain", model_version=MODEL,
                            confidence=CONFIDENCE) for i in (1, 2, 3)])
    add(engine, [StatsRow(stratum="weather=rain", model_version=MODEL, n=3, estimate=CONFIDENCE, lower=0.5,
                          upper=0.9, decision="inconclusive", target=0.85, alpha=0.05, floor_estimate=None,
                          floor_lower=None, floor_upper=None, floor_n=None, time=1.0),
                 RecommendationRow(stratum="weather=rain", thresholds={"weather=rain": CONFIDENCE},
                                   automation_rate=0.3, action="raise", reason=MODEL, policy_version=0, time=1.0)])


def test_nothing_an_annotator_receives_carries_machine_output(engine: Engine, client: TestClient) -> None:
    _with_machine_output(engine)
    ann = token(engine, "ann", Role.ANNOTATOR)
    answers = []

    def call(method: str, url: str, **kwargs: Any) -> Any:
        answer = client.request(method, url, headers=ann, **kwargs)
        answers.append(answer)
        return answer

    first = call("POST", "/v1/tasks/claim").json()["task_id"]
    call("GET", "/v1/tasks")
    call("GET", f"/v1/tasks/{first}")
    call("POST", f"/v1/tasks/{first}/heartbeat")
    call("POST", f"/v1/tasks/{first}/skip", json={"reason": "blurred"})
    second = call("POST", "/v1/tasks/claim").json()["task_id"]
    call("POST", f"/v1/tasks/{second}/submit", json=COCO_BODY)
    call("POST", f"/v1/tasks/{second}/submit", json=COCO_BODY)  # 409: already submitted
    call("GET", f"/v1/tasks/{first}")  # 404
    image = call("GET", f"/v1/tasks/{call('POST', '/v1/tasks/claim').json()['task_id']}/image")

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 204, 200, 200, 409, 404, 200, 200]
    assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")
    for answer in answers:
        if answer.headers.get("content-type") == "application/json":
            assert _keys(answer.json()) & MACHINE_FIELDS == set(), answer.request.url
            assert not any(secret in answer.text for secret in (MODEL, str(PI), str(CONFIDENCE))), answer.text


def test_an_exported_batch_for_an_external_tool_is_blind_too(engine: Engine, client: TestClient) -> None:
    _with_machine_output(engine)
    for kind in ("label-studio", "cvat"):
        batch = client.post("/v1/admin/batches/export", json={"format": kind, "assignee": f"team-{kind}", "size": 1},
                            headers=ADMIN)
        assert batch.status_code == 200
        assert b"driving-s0-00000" in batch.content, "the batch holds a task"
        assert not any(secret.encode() in batch.content for secret in (MODEL, str(PI), str(CONFIDENCE)))
        if kind == "label-studio":
            assert _keys(orjson.loads(batch.content)["tasks"]) & MACHINE_FIELDS == set()
