"""Batches for Label Studio and CVAT: export, the tool's work (simulated as the tool exports it), import.

The queue must then hold the annotations with the right pixel boxes, category ids and tags; an upload the
API cannot read gets 422 naming the task or element.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any
from xml.etree import ElementTree

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.db.engine import session_factory
from services.db.mappers import annotation_message
from services.db.states import TaskState
from services.loop.messages import encode
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
        return {a.task_id: (a.annotator, [(o["geometry"]["xywh"], o["category_id"]) for o in a.objects], a.tags)
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
    assert result.json() == {"submitted": ids[:2], "rejected": {}, "left_out": {}}

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
    assert result.json() == {"submitted": ids, "rejected": {}, "left_out": {}}
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


def _ls(*results: Any, **task: Any) -> bytes:
    """A Label Studio export of the task ``LS_TASK`` with one annotation holding ``results``."""
    return orjson.dumps([{**LS_TASK, "annotations": [{"result": list(results)}], **task}])


LS_BAD = [  # not Label Studio's export: 422 naming the place, nothing imported
    (b"{not json", "document"),
    (b"[NaN]", "document"),
    (b'[{"x": 1e999}]', "document"),
    (orjson.dumps({"tasks": []}), "document"),
    (orjson.dumps([{"id": 1}]), "task 0"),
    (orjson.dumps([5]), "task 0"),
    (orjson.dumps([LS_TASK, {"id": 2, "data": {}}]), "task 1"),
    (orjson.dumps([{"id": 1, "data": {"shadowqa_task_id": 7}}]), "task 0"),
    (orjson.dumps([{**LS_TASK, "annotations": 5}]), "task 'driving-s0-000001/1'"),
    (orjson.dumps([{**LS_TASK, "annotations": [5]}]), "task 'driving-s0-000001/1'"),
    (orjson.dumps([{**LS_TASK, "annotations": [{"result": 5}]}]), "task 'driving-s0-000001/1'"),
    (_ls(5), "task 'driving-s0-000001/1': result 0"),
    (_ls({"value": {}}), "task 'driving-s0-000001/1': result 0"),
    (_ls({**_ls_box("car", 1, 1, 1, 1), "type": 5}), "task 'driving-s0-000001/1': result 0"),
    (_ls({**_ls_box("car", 1, 1, 1, 1), "value": [1]}), "task 'driving-s0-000001/1': result 0"),
    (_ls(_ls_choice("weather", "rain"), {**_ls_box("car", 1, 1, 1, 1), "original_width": 0}),
     "task 'driving-s0-000001/1': result 1"),
    (_ls({**_ls_box("car", 1, 1, 1, 1), "original_height": "tall"}), "task 'driving-s0-000001/1': result 0"),
    (_ls(_ls_box("car", "left", 1, 1, 1)), "task 'driving-s0-000001/1': result 0"),  # type: ignore[arg-type]
    (_ls(_ls_box("car", None, 1, 1, 1)), "task 'driving-s0-000001/1': result 0"),  # type: ignore[arg-type]
    (_ls({**_ls_box("car", 1, 1, 1, 1), "value": {"x": 1, "y": 1, "width": 1, "height": 1,
                                                 "rectanglelabels": "car"}}), "task 'driving-s0-000001/1': result 0"),
    (_ls({**_ls_box("car", 1, 1, 1, 1), "value": {"x": 1, "y": 1, "width": 1, "height": 1, "rotation": [],
                                                 "rectanglelabels": ["car"]}}),
     "task 'driving-s0-000001/1': result 0"),
    (_ls({**_ls_choice("weather", "rain"), "value": {"choices": "rain"}}), "task 'driving-s0-000001/1': result 0"),
    (_ls({**_ls_choice("weather", "rain"), "value": {"choices": [1]}}), "task 'driving-s0-000001/1': result 0"),
    (_ls({**_ls_choice("weather", "rain"), "from_name": None}), "task 'driving-s0-000001/1': result 0"),
]
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<annotations>&lol2;</annotations>")


def _cvat(*shapes: str) -> bytes:
    return f'<annotations><image name="t/1">{"".join(shapes)}</image></annotations>'.encode()


CVAT_BAD = [
    (b"<annotations><image", "document"),
    (b"<tasks/>", "document"),
    (BOMB, "document"),
    (b'<annotations><track id="0" label="car"/></annotations>', "document"),
    (b'<annotations><image id="0"/></annotations>', "image"),
    (_cvat("").replace(b"t/1", b"t" * 256), "image"),
    (_cvat('<box label="car" xtl="a" ytl="0" xbr="1" ybr="1"/>'), "image 't/1': <box> 0"),
    (_cvat('<box label="car" xtl="0" ytl="0" xbr="1"/>'), "image 't/1': <box> 0"),
    (_cvat('<box label="car" xtl="0" ytl="0" xbr="1" ybr="inf"/>'), "image 't/1': <box> 0"),
    (_cvat('<box label="car" xtl="0" ytl="0" xbr="1" ybr="1" rotation="left"/>'), "image 't/1': <box> 0"),
    (_cvat('<box label="car" xtl="0" ytl="0" xbr="1" ybr="1"><attribute>x</attribute></box>'),
     "image 't/1': <box> 0"),
    (_cvat('<tag label=""/>'), "image 't/1': <tag> 0"),
]


@pytest.mark.parametrize(("kind", "body", "where"), [("label-studio", b, w) for b, w in LS_BAD]
                         + [("cvat", b, w) for b, w in CVAT_BAD])
def test_an_upload_the_api_cannot_read_gets_422_naming_where(engine: Engine, client: TestClient, kind: str,
                                                             body: bytes, where: str) -> None:
    answer = _import(client, kind, "team", body)
    assert answer.status_code == 422, answer.text
    assert [error["loc"] for error in answer.json()["detail"]] == [["body", where]]
    assert _stored(engine) == {}


@pytest.mark.parametrize("bad", ["x\x00", "t" * 256, "\x00" * 300], ids=["NUL", "256 characters", "both"])
def test_a_task_id_this_api_cannot_have_exported_is_422_before_any_task_is_imported(engine: Engine,
                                                                                    client: TestClient,
                                                                                    bad: str) -> None:
    """The queue's task id rule (the path's): PostgreSQL refused the NUL (a DataError, a bare 500) after the
    batch's first task was submitted."""
    add_tasks(engine, [manual_task(1)])
    (good,) = orjson.loads(_export(client, "label-studio", "team"))["tasks"]
    good["annotations"] = [{"result": [_ls_box("car", 1, 1, 1, 1)]}]
    hostile = {"id": 2, "data": {"shadowqa_task_id": bad}, "annotations": [{"result": [_ls_box("car", 1, 1, 1, 1)]}]}
    answer = _import(client, "label-studio", "team", orjson.dumps([good, hostile]))
    assert answer.status_code == 422, answer.text
    assert [error["loc"] for error in answer.json()["detail"]] == [["body", "task 1"]]
    assert "data.shadowqa_task_id" in answer.json()["detail"][0]["msg"]
    assert _stored(engine) == {}


REJECTED = [  # a well-formed export with one task this API cannot take: that task is rejected, the other imported
    ("label-studio", [_ls_box("tram", 1, 1, 1, 1)], "unknown label 'tram'"),
    ("label-studio", [{"type": "polygonlabels", "value": {"points": [[1, 1], [2, 2], [1, 2]]}}],
     "'polygonlabels' result"),
    ("label-studio", [{"type": "keypointlabels", "value": {"x": 1, "y": 1}}], "'keypointlabels' result"),
    ("label-studio", [_ls_box("car", 1, 1, -2, 1)], "width and height >= 0"),
    ("label-studio", [{**_ls_box("car", 1, 1, 1, 1), "value": {**_ls_box("car", 1, 1, 1, 1)["value"],
                                                              "rectanglelabels": ["car", "cyclist"]}}],
     "exactly one label"),
    ("label-studio", [{**_ls_choice("weather", "rain"), "value": {"choices": ["rain", "fog"]}}],
     "exactly one choice"),
    ("label-studio", [_ls_choice("w" * 65, "rain")], "tags.wwww"),
    ("label-studio", [_ls_choice("weather", "r" * 257)], "tags.weather"),
    ("label-studio", [_ls_choice("weather", "rain\x00")], "NUL"),
    ("cvat", ['<box label="tram" xtl="0" ytl="0" xbr="1" ybr="1"/>'], "unknown label 'tram'"),
    ("cvat", ['<box label="car" xtl="5" ytl="0" xbr="1" ybr="1"/>'], "not a box"),
    ("cvat", ['<polygon label="car" points="0,0;1,1;0,1"/>'], "is a polygon"),
    ("cvat", ['<polyline label="car" points="0,0;1,1"/>'], "is a polyline"),
    ("cvat", ['<points label="car" points="0,0"/>'], "is a points"),
    ("cvat", ['<mask label="car" rle="1, 2" left="0" top="0" width="1" height="3"/>'], "is a mask"),
    ("cvat", ['<skeleton label="car"><points label="1" points="1,1"/></skeleton>'], "is a skeleton"),
    ("cvat", ['<box label="car" xtl="0" ytl="0" xbr="1" ybr="1"><attribute name="note">'
              + "n" * 1025 + "</attribute></box>"], "annotations[0].attributes.note"),
    ("cvat", ['<tag label="weather"><attribute name="a">1</attribute><attribute name="b">2</attribute></tag>'],
     "several attributes"),
    ("cvat", ['<tag label="weather"><attribute name="value">rain</attribute></tag>',
              '<tag label="weather"><attribute name="value">fog</attribute></tag>'], "given twice"),
]


@pytest.mark.parametrize(("kind", "shapes", "why"), REJECTED, ids=[f"{k}: {w}" for k, _, w in REJECTED])
def test_a_task_that_cannot_be_taken_is_rejected_and_the_others_imported(
        engine: Engine, client: TestClient, kind: str, shapes: list[Any], why: str) -> None:
    bad, good = add_tasks(engine, [manual_task(1), manual_task(2)])
    exported = _export(client, kind, "team")
    if kind == "cvat":
        root = ElementTree.fromstring(exported)
        first, second = root.iter("image")
        for shape in shapes:
            first.append(ElementTree.fromstring(shape))
        ElementTree.SubElement(second, "box", {"label": "car", "xtl": "1", "ytl": "2", "xbr": "3", "ybr": "5"})
        body = ElementTree.tostring(root, encoding="utf-8")
    else:
        tasks = orjson.loads(exported)["tasks"]
        tasks[0]["annotations"] = [{"result": shapes}]
        tasks[1]["annotations"] = [{"result": [_ls_box("car", 1, 1, 1, 1)]}]
        body = orjson.dumps(tasks)
    result = _import(client, kind, "team", body)
    assert result.status_code == 200, result.text
    assert result.json()["submitted"] == [good]
    assert list(result.json()["rejected"]) == [bad] and why in result.json()["rejected"][bad], result.json()
    assert list(_stored(engine)) == [good]
    with session_factory(engine)() as s:
        assert task(s, bad).state == TaskState.LEASED, "still the assignee's, to fix and import again"


def test_other_shapes_can_be_left_out_when_asked_and_are_then_listed(engine: Engine, client: TestClient) -> None:
    (tid,) = add_tasks(engine, [manual_task(1)])
    root = ElementTree.fromstring(_export(client, "cvat", "team"))
    (image,) = root.iter("image")
    for shape in ('<box label="car" xtl="1" ytl="2" xbr="3" ybr="5"/>', '<polygon label="car" points="0,0;1,1;0,1"/>',
                  '<points label="car" points="0,0"/>'):
        image.append(ElementTree.fromstring(shape))
    body = ElementTree.tostring(root, encoding="utf-8")
    answer = client.post("/v1/admin/batches/import?format=cvat&assignee=team&other_shapes=ignore", content=body,
                         headers={**ADMIN, "Content-Type": "application/xml"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["submitted"] == [tid] and answer.json()["rejected"] == {}
    left_out = answer.json()["left_out"][tid]
    assert "<polygon> 1 is a polygon" in left_out and "<points> 2 is a points" in left_out
    assert _stored(engine) == {tid: ("team", [([1.0, 2.0, 2.0, 3.0], 1)], {})}


def test_a_cvat_tag_without_attributes_is_a_presence_tag(engine: Engine, client: TestClient) -> None:
    (tid,) = add_tasks(engine, [manual_task(1)])
    root = ElementTree.fromstring(_export(client, "cvat", "team"))
    (image,) = root.iter("image")
    image.append(ElementTree.fromstring('<tag label="good_frame" source="manual">\n    </tag>'))
    image.append(ElementTree.fromstring('<tag label="weather"><attribute name="kind">rain</attribute></tag>'))
    result = _import(client, "cvat", "team", ElementTree.tostring(root, encoding="utf-8"))
    assert result.status_code == 200 and result.json()["submitted"] == [tid], result.text
    assert _stored(engine)[tid][2] == {"good_frame": "true", "weather": "rain"}


@pytest.mark.parametrize("rotation", [30.0, 90.0, 200.0, -45.0])
def test_a_rotated_label_studio_box_is_its_enclosing_box_or_refused_when_asked(
        engine: Engine, client: TestClient, rotation: float) -> None:
    first, second = add_tasks(engine, [manual_task(1), manual_task(2)])
    tasks = orjson.loads(_export(client, "label-studio", "team"))["tasks"]
    box = _ls_box("car", 25, 50, 10, 20)  # 80, 96, 32, 38.4 pixels, turned about its top-left corner (80, 96)
    box["value"]["rotation"] = rotation
    for t in tasks:
        t["annotations"] = [{"result": [box]}]
    a = math.radians(rotation)
    corners = np.array([[0, 0], [32, 0], [32, 38.4], [0, 38.4]]) @ np.array([[math.cos(a), math.sin(a)],
                                                                              [-math.sin(a), math.cos(a)]])
    corners += [80, 96]
    (x, y), (right, bottom) = corners.min(axis=0), corners.max(axis=0)

    refused = client.post("/v1/admin/batches/import?format=label-studio&assignee=team&rotated=refuse",
                          content=orjson.dumps(tasks[:1]), headers={**ADMIN, "Content-Type": "application/json"})
    assert refused.json()["submitted"] == [] and "rotated by" in refused.json()["rejected"][first], refused.text
    result = _import(client, "label-studio", "team", orjson.dumps(tasks))
    assert result.json()["submitted"] == [first, second], result.text
    with session_factory(engine)() as s:
        stored = {a.task_id: a.objects for a in answers(s)}
    (obj,) = stored[first]
    assert obj["geometry"]["xywh"] == pytest.approx([x, y, right - x, bottom - y], abs=1e-9)
    assert obj["attributes"] == {"rotation": rotation}


def test_a_rotated_cvat_box_is_its_enclosing_box_about_its_centre(engine: Engine, client: TestClient) -> None:
    (tid,) = add_tasks(engine, [manual_task(1)])
    root = ElementTree.fromstring(_export(client, "cvat", "team"))
    (image,) = root.iter("image")
    ElementTree.SubElement(image, "box", {"label": "car", "xtl": "10", "ytl": "20", "xbr": "50", "ybr": "40",
                                          "rotation": "90"})  # 40 x 20 about (30, 30): 20 x 40 about it
    result = _import(client, "cvat", "team", ElementTree.tostring(root, encoding="utf-8"))
    assert result.json()["submitted"] == [tid], result.text
    with session_factory(engine)() as s:
        (obj,) = answers(s)[0].objects
    assert obj["geometry"]["xywh"] == pytest.approx([20.0, 10.0, 20.0, 40.0], abs=1e-9)
    assert obj["attributes"] == {"rotation": 90.0}


WRONG: list[Any] = [5, -1.5, "x", "", None, True, [], [1], {}, {"a": 1}, 2**70, "\udfff", "x\x00"]
DELETE = object()


def _paths(doc: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document (keys and list positions), outermost first."""
    inner = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    return [at] + [p for key, value in inner for p in _paths(value, (*at, key))]


def _put(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(doc)
    if not path:
        return None if value is DELETE else value
    *parent, last = path
    holder = changed
    for key in parent:
        holder = holder[key]
    if value is DELETE and isinstance(holder, dict):
        del holder[last]
    else:
        holder[last] = None if value is DELETE else value
    return changed


def _no_server_error(engine: Engine, client: TestClient, kind: str, bodies: list[bytes]) -> None:
    """Each body is imported (200) or refused as unreadable (422 naming a place in the body); whatever was stored
    encodes as a manual-annotations message Kafka takes."""
    for body in bodies:
        answer = _import(client, kind, "team", body)
        assert answer.status_code in (200, 422), (body[:300], answer.text)
        if answer.status_code == 422:
            assert [e["loc"][0] for e in answer.json()["detail"]] == ["body"], answer.text
    with session_factory(engine)() as s:
        for row in answers(s):
            assert 0 < len(encode(annotation_message(row, task(s, row.task_id)))) < 1_000_000


def test_label_studio_imports_with_a_wrong_type_anywhere_never_fail_the_server(engine: Engine,
                                                                               client: TestClient) -> None:
    add_tasks(engine, [manual_task(1)])
    (valid,) = orjson.loads(_export(client, "label-studio", "team"))["tasks"]
    valid["annotations"] = [{"id": 1, "was_cancelled": False,
                             "result": [{**_ls_box("car", 10, 25, 50, 12.5), "id": "r1"},
                                        {**_ls_choice("occluded", "yes"), "id": "r1"},
                                        _ls_choice("weather", "rain")]}]
    bodies = [json.dumps([_put(valid, path, value)]).encode("utf-8", "surrogatepass")
              for path in _paths(valid) for value in [*WRONG, DELETE]]
    _no_server_error(engine, client, "label-studio", bodies)


def test_cvat_imports_with_a_wrong_value_anywhere_never_fail_the_server(engine: Engine, client: TestClient) -> None:
    add_tasks(engine, [manual_task(1)])
    root = ElementTree.fromstring(_export(client, "cvat", "team"))
    (image,) = root.iter("image")
    image.append(ElementTree.fromstring('<box label="car" xtl="1" ytl="2" xbr="3" ybr="5" rotation="10">'
                                        '<attribute name="colour">red</attribute></box>'))
    image.append(ElementTree.fromstring('<tag label="weather"><attribute name="value">rain</attribute></tag>'))
    bodies = []
    for element in root.iter():
        for name in list(element.attrib):
            for value in ("", "x", "nan", "-inf", "1e999", "1e308", "-5", "\u00e9", "0" * 5000):
                element.set(name, value)
                bodies.append(ElementTree.tostring(root, encoding="utf-8"))
            original = element.attrib.pop(name)
            bodies.append(ElementTree.tostring(root, encoding="utf-8"))
            element.set(name, original)
        tag, element.tag = element.tag, "bogus"
        bodies.append(ElementTree.tostring(root, encoding="utf-8"))
        element.tag = tag
    _no_server_error(engine, client, "cvat", bodies)
