"""The Label Studio bridge's routes in the API: the webhook (shared secret) and the signed images."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.db.engine import session_factory
from services.labelstudio.client import server_key
from services.labelstudio.ingest import BRIDGE
from services.labelstudio.routes import LabelStudioLink, extension
from services.labelstudio.signing import image_url
from services.labelstudio.store import OpenTask, TaskMap
from tests.services.api.helpers import ClientFactory, add_tasks, answers, api_of, frame_tasks

LS_URL = "http://127.0.0.1:8080"
SECRET = "a-shared-secret-of-at-least-32-characters"
HEADERS = {"X-Shadowqa-Secret": SECRET}


@pytest.fixture
def linked(make_client: ClientFactory, engine: Engine) -> TestClient:
    add_tasks(engine, [*frame_tasks(1, copies=2), *frame_tasks(2)])
    return make_client(extensions=[extension(LabelStudioLink(LS_URL, SECRET))])


def _payload(ls_task_id: int, annotation_id: int, user: int, **extra: Any) -> dict[str, Any]:
    result = [{"id": "r", "type": "rectanglelabels", "from_name": "label", "to_name": "image",
               "original_width": 320, "original_height": 192,
               "value": {"x": 10, "y": 25, "width": 5, "height": 12.5, "rectanglelabels": ["car"]}}]
    return {"action": "ANNOTATION_CREATED", "project": {"id": 1},
            "task": {"id": ls_task_id, "data": {"shadowqa_frame": "driving-s0-000001", "shadowqa_profile": "driving"}},
            "annotation": {"id": annotation_id, "completed_by": user, "result": result, "lead_time": 9.0, **extra}}


def test_an_api_without_the_bridge_has_no_such_routes(client: TestClient) -> None:
    assert client.post("/v1/labelstudio/webhook", json={}, headers=HEADERS).status_code == 404
    assert client.get("/v1/labelstudio/images/x", params={"expires": 1, "sig": "0"}).status_code == 404


@pytest.mark.parametrize("headers", [{}, {"X-Shadowqa-Secret": "wrong"}])
def test_a_webhook_without_the_secret_is_refused(linked: TestClient, headers: dict[str, str]) -> None:
    assert linked.post("/v1/labelstudio/webhook", json=_payload(1, 1, 7), headers=headers).status_code == 401


def test_a_webhook_records_the_annotation_once_on_a_copy_the_bridge_holds(linked: TestClient, engine: Engine) -> None:
    queue = api_of(linked).queue
    (group, _) = queue.claim_frames(BRIDGE, 2, lease_s=300.0)
    TaskMap(engine, server_key(LS_URL)).add(OpenTask(41, 1, group[0].frame_id, group[0].task_id, 2, time.time() + 60))
    for _ in range(2):  # Label Studio's webhook and a repeat of it: one submission
        assert linked.post("/v1/labelstudio/webhook", json=_payload(41, 5, 7), headers=HEADERS).status_code == 204
    assert linked.post("/v1/labelstudio/webhook", json=_payload(99, 6, 7), headers=HEADERS).status_code == 204
    with session_factory(engine)() as session:
        (answer,) = answers(session)
    assert (answer.task_id, answer.annotator) == ("driving-s0-000001/1", "ls:7")
    assert answer.objects[0]["geometry"]["xywh"] == [32, 48, 16, 24]


def test_a_webhook_that_is_not_json_is_a_422(linked: TestClient) -> None:
    reply = linked.post("/v1/labelstudio/webhook", content=b"not json", headers=HEADERS)
    assert reply.status_code == 422


def test_a_signed_image_is_served_with_cors_and_a_wrong_or_late_signature_is_not(linked: TestClient) -> None:
    good = image_url("", SECRET, "driving-s0-000002/1", int(time.time()) + 60)
    reply = linked.get(good)
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/png"
    assert reply.headers["access-control-allow-origin"] == "*" and reply.content.startswith(b"\x89PNG")
    assert linked.get(good.replace("000002", "000001")).status_code == 403  # another frame, the same signature
    late = image_url("", SECRET, "driving-s0-000002/1", int(time.time()) - 1)
    assert "expired" in linked.get(late).json()["detail"]
    assert linked.get(image_url("", SECRET, "no-such-task/1", int(time.time()) + 60)).status_code == 404


def test_a_rotated_rectangle_comes_in_as_its_enclosing_box_with_the_angle(linked: TestClient, engine: Engine) -> None:
    queue = api_of(linked).queue
    (group, _) = queue.claim_frames(BRIDGE, 2, lease_s=300.0)
    TaskMap(engine, server_key(LS_URL)).add(OpenTask(41, 1, group[0].frame_id, group[0].task_id, 2, time.time() + 60))
    body = _payload(41, 5, 7)
    body["annotation"]["result"][0]["value"].update({"x": 25, "y": 25, "width": 10, "height": 10, "rotation": 90})
    assert linked.post("/v1/labelstudio/webhook", json=body, headers=HEADERS).status_code == 204
    with session_factory(engine)() as session:
        (answer,) = answers(session)
    (box,) = answer.objects
    # a 32 x 19.2 px box turned 90 degrees clockwise about its top-left corner (80, 48): x from 80 - 19.2 to 80
    assert box["geometry"]["xywh"] == pytest.approx([60.8, 48, 19.2, 32])
    assert box["attributes"] == {"rotation": 90}
