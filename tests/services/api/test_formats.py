"""Batches for Label Studio and CVAT: export, the tool's work (simulated as the tool exports it), import.

The queue must then hold the annotations with the right pixel boxes, category ids and tags; an upload the
API cannot read gets 422 naming the task or element.
"""

from __future__ import annotations

import copy
from typing import Any
from xml.etree import ElementTree

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.db.engine import session_factory
from services.db.states import TaskState
from tests.services.api.helpers import ADMIN, add_tasks, answers, manual_task, task

CATEGORY = {"car": 1, "pedestrian": 2, "cyclist": 3, "traffic_sign": 4}
WIDTH, HEIGHT = 320, 192  # the synthetic driving frames


def _export(client: TestClient, kind: str, assignee: str, size: int = 10) -> bytes:
    answer = client.post("/v1/admin/batches/export", json={"format": kind, "assignee": assignee, "size": size},
                         headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return answer.content


def _import(client: TestClient, kind: str, assignee: str, body: bytes) -> Any:
    media = "application/xml" if kind == "cvat" else "application/json"
    return client.post(f"/v1/admin/batches/import?format={kind}&assignee={assignee}", content=body,
                       headers={**ADMIN, "Content-Type": media})


def _ls_box(label: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    """A rectangle as Label Studio exports it: percent of the image, with the image's size."""
    return {"type": "rectanglelabels", "from_name": "label", "to_name": "image", "original_width": WIDTH,
            "original_height": HEIGHT, "image_rotation": 0,
            "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]}}


def _ls_choice(tag: str, value: str) -> dict[str, Any]:
    return {"type": "choices", "from_name": tag, "to_name": "image", "value": {"choices": [value]}}


def _stored(engine: Engine) -> dict[str, tuple[str, list[tuple[list[float], int]], dict[str, str]]]:
    with session_factory(engine)() as s:
        return {a.task_id: (a.annotator, [(o["bbox"], o["category_id"]) for o in a.objects], a.tags)
                for a in answers(s)}


def test_label_studio_round_trip(engine: Engine, client: TestClient) -> None:
    ids = add_tasks(engine, [manual_task(i) for i in (1, 2, 3)])
    exported = orjson.loads(_export(client, "label-studio", "ls-team"))
    tasks = exported["tasks"]
    assert [t["data"]["shadowqa_task_id"] for t in tasks] == ids
    assert {(t["data"]["width"], t["data"]["height"]) for t in tasks} == {(WIDTH, HEIGHT)}
    assert tasks[0]["data"]["image"].endswith(f"/v1/tasks/{ids[0]}/image")
    config = exported["label_config"]
    assert all(f'<Label value="{name}"/>' in config for name in CATEGORY)
    assert '<Choices name="weather"' in config and '<Choice value="fog"/>' in config

    done = copy.deepcopy(tasks)  # the tool's export: the same tasks with the people's annotations
    done[0]["annotations"] = [{"id": 1, "was_cancelled": False, "result": [
        _ls_box("car", 10, 25, 50, 12.5), _ls_box("pedestrian", 0, 50, 2.5, 25), _ls_choice("weather", "rain")]}]
    done[1]["annotations"] = [{"id": 2, "was_cancelled": True, "result": [_ls_box("car", 1, 1, 1, 1)]},
                              {"id": 3, "was_cancelled": False, "result": [_ls_choice("time_of_day", "night")]}]
    done[2]["annotations"] = []  # not annotated in the tool yet
    result = _import(client, "label-studio", "ls-team", orjson.dumps(done))
    assert result.status_code == 200, result.text
    assert result.json() == {"submitted": ids[:2], "rejected": {}}

    assert _stored(engine) == {
        ids[0]: ("ls-team", [([32.0, 48.0, 160.0, 24.0], 1), ([0.0, 96.0, 8.0, 48.0], 2)], {"weather": "rain"}),
        ids[1]: ("ls-team", [], {"time_of_day": "night"}),
    }
    with session_factory(engine)() as s:
        assert [task(s, t).state for t in ids] == [TaskState.SUBMITTED, TaskState.SUBMITTED, TaskState.LEASED]
        assert task(s, ids[2]).lease_owner == "ls-team"


def test_cvat_round_trip(engine: Engine, client: TestClient) -> None:
    ids = add_tasks(engine, [manual_task(i, stratum="weather=fog") for i in (1, 2)])
    root = ElementTree.fromstring(_export(client, "cvat", "cvat-team"))
    assert [label.text for label in root.iter("name")] == list(CATEGORY)
    images = list(root.iter("image"))
    assert [(i.get("name"), i.get("width"), i.get("height"), i.get("subset")) for i in images] == [
        (t, str(WIDTH), str(HEIGHT), "weather=fog") for t in ids]

    ElementTree.SubElement(images[0], "box", {"label": "cyclist", "source": "manual", "occluded": "0",
                                              "xtl": "10.5", "ytl": "20.25", "xbr": "40.5", "ybr": "60.25",
                                              "z_order": "0"})
    ElementTree.SubElement(images[0], "box", {"label": "traffic_sign", "occluded": "1", "xtl": "300",
                                              "ytl": "0", "xbr": "320", "ybr": "16"})
    tag = ElementTree.SubElement(images[0], "tag", {"label": "weather", "source": "manual"})
    ElementTree.SubElement(tag, "attribute", {"name": "value"}).text = "fog"
    result = _import(client, "cvat", "cvat-team", ElementTree.tostring(root, encoding="utf-8"))
    assert result.status_code == 200, result.text
    assert result.json() == {"submitted": ids, "rejected": {}}
    assert _stored(engine) == {
        ids[0]: ("cvat-team", [([10.5, 20.25, 30.0, 40.0], 3), ([300.0, 0.0, 20.0, 16.0], 4)], {"weather": "fog"}),
        ids[1]: ("cvat-team", [], {}),
    }


def test_an_import_for_tasks_the_assignee_does_not_hold_is_rejected_per_task(engine: Engine,
                                                                              client: TestClient) -> None:
    ids = add_tasks(engine, [manual_task(1)])
    root = ElementTree.fromstring(_export(client, "cvat", "cvat-team"))
    ElementTree.SubElement(root, "image", {"id": "9", "name": "driving-s0-999999/1", "width": "1", "height": "1"})
    body = ElementTree.tostring(root, encoding="utf-8")
    assert _import(client, "cvat", "someone-else", body).json()["submitted"] == []
    result = _import(client, "cvat", "cvat-team", body).json()
    assert result["submitted"] == ids and set(result["rejected"]) == {"driving-s0-999999/1"}
    assert set(_import(client, "cvat", "cvat-team", body).json()["rejected"]) == {ids[0], "driving-s0-999999/1"}
    assert len(_stored(engine)) == 1


LS_TASK = {"id": 1, "data": {"shadowqa_task_id": "driving-s0-000001/1"}}
LS_BAD = [
    (b"{not json", "document"),
    (orjson.dumps({"tasks": []}), "document"),
    (orjson.dumps([{"id": 1}]), "task 0"),
    (orjson.dumps([LS_TASK, {"id": 2, "data": {}}]), "task 1"),
    (orjson.dumps([{**LS_TASK, "annotations": [{"result": [_ls_box("tram", 1, 1, 1, 1)]}]}]),
     "task 'driving-s0-000001/1': result 0"),
    (orjson.dumps([{**LS_TASK, "annotations": [{"result": [_ls_choice("weather", "rain"),
                                                            {**_ls_box("car", 1, 1, 1, 1), "original_width": 0}]}]}]),
     "task 'driving-s0-000001/1': result 1"),
    (orjson.dumps([{**LS_TASK, "annotations": [{"result": [{"type": "polygonlabels", "value": {}}]}]}]),
     "task 'driving-s0-000001/1': result 0"),
    (orjson.dumps([{**LS_TASK, "annotations": [{"result": [_ls_box("car", "left", 1, 1, 1)]}]}]),  # type: ignore[arg-type]
     "task 'driving-s0-000001/1': result 0"),
]
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<annotations>&lol2;</annotations>")
CVAT_BAD = [
    (b"<annotations><image", "document"),
    (b"<tasks/>", "document"),
    (BOMB, "document"),
    (b'<annotations><image id="0"/></annotations>', "image"),
    (b'<annotations><image name="t/1"><box label="car" xtl="a" ytl="0" xbr="1" ybr="1"/></image></annotations>',
     "image 't/1'"),
    (b'<annotations><image name="t/1"><box label="tram" xtl="0" ytl="0" xbr="1" ybr="1"/></image></annotations>',
     "image 't/1'"),
    (b'<annotations><image name="t/1"><box label="car" xtl="5" ytl="0" xbr="1" ybr="1"/></image></annotations>',
     "image 't/1'"),
    (b'<annotations><image name="t/1"><tag label="weather"/></image></annotations>', "image 't/1'"),
]


@pytest.mark.parametrize(("kind", "body", "where"), [("label-studio", b, w) for b, w in LS_BAD]
                         + [("cvat", b, w) for b, w in CVAT_BAD])
def test_an_upload_the_api_cannot_read_gets_422_naming_where(client: TestClient, kind: str, body: bytes,
                                                             where: str) -> None:
    answer = _import(client, kind, "team", body)
    assert answer.status_code == 422, answer.text
    assert [error["loc"] for error in answer.json()["detail"]] == [["body", where]]
