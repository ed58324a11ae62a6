"""Malformed request bodies and queries get 422, and the error names the field (``loc``)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.api.tokens import Role
from tests.services.api.helpers import ADMIN, COCO_BODY, add_tasks, manual_task, token

TASK = "driving-s0-000001/1"
BOX = {"bbox": [10, 20, 30, 12], "category_id": 1}

CASES: list[tuple[str, str, str, Any, list[Any]]] = [
    # role, method + path, case, body, the loc the error must name
    ("annotator", f"/v1/tasks/{TASK}/submit", "no annotations", {"tags": {}}, ["body", "annotations"]),
    ("annotator", f"/v1/tasks/{TASK}/submit", "negative width",
     {"annotations": [BOX, {"bbox": [1, 2, -3, 4], "category_id": 1}]}, ["body", "annotations", 1, "bbox", 2]),
    ("annotator", f"/v1/tasks/{TASK}/submit", "box of three", {"annotations": [{"bbox": [1, 2, 3], "category_id": 1}]},
     ["body", "annotations", 0, "bbox", 3]),
    ("annotator", f"/v1/tasks/{TASK}/submit", "category not a number",
     {"annotations": [{"bbox": [1, 2, 3, 4], "category_id": "car"}]}, ["body", "annotations", 0, "category_id"]),
    ("annotator", f"/v1/tasks/{TASK}/submit", "unknown field", {**COCO_BODY, "boxes": []}, ["body", "boxes"]),
    ("annotator", f"/v1/tasks/{TASK}/submit", "tag value not text", {"annotations": [], "tags": {"weather": 3}},
     ["body", "tags", "weather"]),
    ("annotator", f"/v1/tasks/{TASK}/skip", "no reason", {}, ["body", "reason"]),
    ("annotator", f"/v1/tasks/{TASK}/skip", "empty reason", {"reason": ""}, ["body", "reason"]),
    ("admin", "/v1/admin/tokens", "name with a space", {"name": "a b", "role": "reader"}, ["body", "name"]),
    ("admin", "/v1/admin/tokens", "unknown role", {"name": "ab", "role": "root"}, ["body", "role"]),
    ("admin", "/v1/policy", "threshold above 1", {"stratum": "*", "threshold": 1.5, "reason": "x"},
     ["body", "threshold"]),
    ("admin", "/v1/policy", "no threshold (null: nothing ships)", {"stratum": "*", "reason": "x"},
     ["body", "threshold"]),
    ("admin", "/v1/policy", "no reason", {"stratum": "*", "threshold": 0.9}, ["body", "reason"]),
    ("admin", "/v1/policy", "empty stratum", {"stratum": "", "threshold": 0.9, "reason": "x"}, ["body", "stratum"]),
    ("admin", "/v1/admin/batches/export", "unknown format", {"format": "coco", "assignee": "team"}, ["body", "format"]),
    ("admin", "/v1/admin/batches/export", "size 0", {"format": "cvat", "assignee": "team", "size": 0},
     ["body", "size"]),
    ("admin", "/v1/admin/batches/export", "negative lease", {"format": "cvat", "assignee": "team", "lease_hours": -1},
     ["body", "lease_hours"]),
    ("admin", "/v1/admin/batches/export", "no assignee", {"format": "cvat"}, ["body", "assignee"]),
]


@pytest.mark.parametrize(("role", "path", "case", "body", "loc"), CASES, ids=[f"{c[1]}: {c[2]}" for c in CASES])
def test_a_malformed_body_gets_422_naming_the_field(engine: Engine, client: TestClient, role: str, path: str,
                                                    case: str, body: Any, loc: list[Any]) -> None:
    headers = ADMIN
    if role == "annotator":
        add_tasks(engine, [manual_task(1)])
        headers = token(engine, "ann", Role.ANNOTATOR)
        assert client.post("/v1/tasks/claim", headers=headers).json()["task_id"] == TASK
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert loc in [error["loc"] for error in answer.json()["detail"]], answer.json()


def test_a_body_that_is_not_json_gets_422_in_the_body(engine: Engine, client: TestClient) -> None:
    answer = client.post("/v1/admin/tokens", content=b"{name:", headers={**ADMIN, "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert [error["loc"][0] for error in answer.json()["detail"]] == ["body"]


@pytest.mark.parametrize(("query", "loc"), [
    ("target=1.5", ["query", "target"]), ("", ["query", "target"]), ("target=0.9&alpha=0", ["query", "alpha"]),
    ("target=0.9&max_weight=0.5", ["query", "max_weight"]), ("target=0.9&every_stratum=perhaps",
                                                             ["query", "every_stratum"]),
])
def test_a_malformed_gate_query_gets_422_naming_the_parameter(client: TestClient, query: str, loc: list[str]) -> None:
    answer = client.get(f"/v1/gates/*?{query}", headers=ADMIN)
    assert answer.status_code == 422
    assert loc in [error["loc"] for error in answer.json()["detail"]]


def test_a_task_whose_frame_cannot_be_read_gets_422_naming_the_task(engine: Engine, client: TestClient) -> None:
    task = manual_task(1).model_copy(update={"image": "file:///nonexistent/frame.png"})
    add_tasks(engine, [task])
    ann = token(engine, "ann", Role.ANNOTATOR)
    assert client.post("/v1/tasks/claim", headers=ann).status_code == 200
    answer = client.get(f"/v1/tasks/{TASK}/image", headers=ann)
    assert answer.status_code == 422
    ((error,),) = [answer.json()["detail"]]
    assert error["loc"] == ["path", "task_id"] and "no such file" in error["msg"]
