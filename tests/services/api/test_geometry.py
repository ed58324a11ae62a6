"""A submitted object's geometry travels as the wire carries it: tagged geometry of any registered kind, or a
COCO ``bbox`` read as ``box2d`` through the geometry registry, stored and published on manual-annotations as
schema version 2. Runs on SQLite and PostgreSQL (``engine``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from analysis.annotations.model import FloatArray, IntArray, Objects
from analysis.geometry import register, unregister
from services.api.outbox import Outbox
from services.api.tokens import Role
from services.db.engine import session_factory
from services.db.models import ManualAnnotationRow
from services.infra.topic_names import TopicNames
from services.loop.messages import ManualAnnotation, decode
from tests.services.api.helpers import add_tasks, manual_task, token
from tests.services.tools.memory import MemorySink

TASK = "driving-s0-000001/1"
TOPICS = TopicNames("t-")
BOX = {"type": "box2d", "xywh": [10.0, 20.0, 30.0, 12.0]}
POLYGON = {"type": "polygon", "parts": [[0.0, 0.0, 40.0, 0.0, 20.0, 30.0], [50.0, 50.0, 60.0, 50.0, 55.0, 58.0]]}
MASK = {"type": "mask", "size": [4, 3], "counts": "1314"}  # COCO compressed RLE of the runs 1, 3, 1, 7
TOY = "toy-huge"


def _submit(engine: Engine, client: TestClient, objects: list[dict[str, Any]]) -> Any:
    add_tasks(engine, [manual_task(1)])
    who = token(engine, "ann", Role.ANNOTATOR)
    assert client.post("/v1/tasks/claim", headers=who).json()["task_id"] == TASK
    return client.post(f"/v1/tasks/{TASK}/submit", json={"annotations": objects, "tags": {}}, headers=who)


def _stored(engine: Engine) -> list[dict[str, Any]]:
    with session_factory(engine)() as session:
        objects: list[dict[str, Any]] = session.scalars(select(ManualAnnotationRow.objects)).one()
        return objects


def _published(engine: Engine) -> tuple[dict[str, Any], ManualAnnotation]:
    """The record the outbox puts on manual-annotations, as JSON and as the comparator decodes it."""
    sink = MemorySink()
    assert Outbox(engine, sink, TOPICS.manual_annotations).publish() == 1
    ((_, value),) = sink.on(TOPICS.manual_annotations)
    return orjson.loads(value), decode(ManualAnnotation, value)


@pytest.mark.parametrize("geometry", [BOX, POLYGON, MASK], ids=["box2d", "polygon", "mask"])
def test_tagged_geometry_reaches_manual_annotations_as_version_2(
    engine: Engine, client: TestClient, geometry: dict[str, Any],
) -> None:
    answer = _submit(engine, client, [{"geometry": geometry, "category_id": 2, "attributes": {"occluded": True}}])
    assert answer.status_code == 200, answer.text
    expected = {"geometry": geometry, "category_id": 2, "attributes": {"occluded": True}}
    assert _stored(engine) == [expected]
    doc, message = _published(engine)
    assert doc["schema_version"] == 2 and doc["objects"] == [expected]
    (obj,) = message.objects
    assert obj.geometry.kind == geometry["type"] and obj.geometry.wire() == geometry


def test_a_coco_bbox_is_stored_and_sent_as_the_box2d_geometry_it_stands_for(engine: Engine,
                                                                             client: TestClient) -> None:
    coco = {"id": 7, "image_id": 1, "bbox": [10, 20, 30, 12], "category_id": 2, "area": 360, "iscrowd": 0}
    assert _submit(engine, client, [coco]).status_code == 200
    expected = {"geometry": BOX, "category_id": 2, "attributes": {}}
    assert _stored(engine) == [expected]
    doc, message = _published(engine)
    assert doc["schema_version"] == 2 and doc["objects"] == [expected] and "bbox" not in doc["objects"][0]
    assert message.objects[0].geometry.value == (10.0, 20.0, 30.0, 12.0)


class Huge:
    """A toy kind whose wire form holds an integer no JSON record on Kafka can carry."""

    kind = TOY
    aliases: tuple[str, ...] = ()

    def read(self, doc: Mapping[str, Any], source: str, where: str) -> int:
        return int(doc["n"])

    def write(self, value: int) -> dict[str, Any]:
        return {"type": TOY, "n": value}

    def column(self, values: Sequence[int]) -> list[int]:
        return list(values)

    def area(self, column: list[int]) -> FloatArray:
        return np.ones(len(column))

    def extent(self, column: list[int]) -> FloatArray:
        return np.ones(len(column))

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        return np.zeros(len(dt_idx))


@pytest.fixture
def huge() -> Iterator[None]:
    register(Huge)
    yield
    unregister(TOY)


@pytest.mark.parametrize(("obj", "loc", "words"), [
    ({"category_id": 1}, ["body", "annotations", 0], "geometry or its COCO bbox"),
    ({"geometry": BOX, "bbox": [1, 2, 3, 4], "category_id": 1}, ["body", "annotations", 0], "not both"),
    ({"geometry": {"type": "cuboid"}, "category_id": 1}, ["body", "annotations", 0, "geometry"],
     "unknown geometry kind 'cuboid'"),
    ({"geometry": {"type": "box", "xywh": [1, 2, 3, 4]}, "category_id": 1}, ["body", "annotations", 0, "geometry"],
     "unknown geometry kind 'box'"),  # the wire's tags are canonical names, as on manual-annotations
    ({"geometry": {"type": "box2d", "xywh": [1, 2, -3, 4]}, "category_id": 1}, ["body", "annotations", 0, "geometry"],
     "xywh: width is negative"),
    ({"geometry": {"type": "polygon", "parts": [[0, 0, 1, 0]]}, "category_id": 1},
     ["body", "annotations", 0, "geometry"], "at least 6 numbers"),
    ({"geometry": {"type": "polygon", "parts": [[0, 0, 10**400, 0, 1, 1]]}, "category_id": 1},
     ["body", "annotations", 0, "geometry"], "parts[0][2]: must be finite"),
    ({"geometry": {"type": "mask", "size": [2, 2], "counts": [1, 2]}, "category_id": 1},
     ["body", "annotations", 0, "geometry"], "runs cover 3 pixels, the mask has 4"),
    ({"geometry": [1, 2, 3, 4], "category_id": 1}, ["body", "annotations", 0, "geometry"], "expected an object"),
    ({"geometry": {"type": TOY, "n": 2**70}, "category_id": 1}, ["body"], "cannot travel on manual-annotations"),
])
def test_a_geometry_the_wire_cannot_carry_gets_422_naming_it(
    engine: Engine, client: TestClient, huge: None, obj: dict[str, Any], loc: list[Any], words: str,
) -> None:
    answer = _submit(engine, client, [obj])
    assert answer.status_code == 422, answer.text
    errors = {tuple(e["loc"]): e["msg"] for e in answer.json()["detail"]}
    assert words in errors[tuple(loc)], errors
    assert _stored_count(engine) == 0


def _stored_count(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return len(session.scalars(select(ManualAnnotationRow.id)).all())


def test_the_toy_kind_of_a_test_module_is_taken_when_it_fits_a_record(engine: Engine, client: TestClient,
                                                                      huge: None) -> None:
    assert _submit(engine, client, [{"geometry": {"type": TOY, "n": 5}, "category_id": 1}]).status_code == 200
    assert _stored(engine) == [{"geometry": {"type": TOY, "n": 5}, "category_id": 1, "attributes": {}}]


def test_the_openapi_document_shows_both_forms(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["CocoObject"]
    assert {"geometry", "bbox", "category_id"} <= set(schema["properties"])
    assert schema["required"] == ["category_id"]
