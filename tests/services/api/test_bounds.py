"""Nothing is stored that cannot be published: hostile values are refused at the door with 422 naming the field
(and nothing is written), and the largest values the API takes are stored in rows whose manual-annotations
message encodes, within Kafka's 1 MB record."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.api.schemas import SUBMISSION_MAX_BYTES
from services.api.tokens import Role
from services.db.engine import session_factory
from services.db.mappers import annotation_message
from services.db.states import TaskState
from services.loop.messages import encode
from services.loop.messages.fields import INT64_MAX, INT64_MIN
from tests.services.api.helpers import ADMIN, add_tasks, answers, manual_task, task, token

TASK = "driving-s0-000001/1"
KAFKA_RECORD = 1_000_000
SURROGATE, NUL, EMOJI = "\udfff", "\x00", "\U0001f600"
ANY = ...  # in a loc: whatever names the key (pydantic writes a key it cannot decode in its own way)


def _body(attributes: Any = None, *, bbox: Any = (1, 2, 3, 4), category_id: Any = 1, tags: Any = None,
          objects: int = 1) -> dict[str, Any]:
    obj = {"bbox": list(bbox), "category_id": category_id, "attributes": attributes or {}}
    return {"annotations": [obj] * objects, "tags": tags or {}}


def _raw(body: dict[str, Any], *, ascii_only: bool = True, **literals: str) -> str:
    """``body`` as JSON text, with each ``"@NAME"`` string replaced by the raw JSON text ``literals[NAME]``
    (NaN, Infinity, 1e999: values Python's JSON parser takes but JSON does not). ``ascii_only=False`` writes
    characters as UTF-8 instead of \\u escapes (an emoji: 4 bytes instead of 12)."""
    text = json.dumps(body, ensure_ascii=ascii_only)  # a lone surrogate: its \\u escape, as a hostile client sends
    for name, literal in literals.items():
        text = text.replace(f'"@{name}"', literal)
    return text


SUBMIT_REFUSED: list[tuple[str, str, list[Any]]] = [  # case, body, the loc the 422 must name
    ("attribute 2**70", _raw(_body({"n": 2**70})), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute -2**63-1", _raw(_body({"n": INT64_MIN - 1})), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute 2**63", _raw(_body({"n": INT64_MAX + 1})), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute NaN", _raw(_body({"n": "@x"}), x="NaN"), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute Infinity", _raw(_body({"n": "@x"}), x="Infinity"), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute -Infinity", _raw(_body({"n": "@x"}), x="-Infinity"), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute 1e999", _raw(_body({"n": "@x"}), x="1e999"), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute lone surrogate", _raw(_body({"n": SURROGATE})), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute NUL", _raw(_body({"n": f"a{NUL}b"})), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute 2 MB string", _raw(_body({"n": "x" * 2_000_000})), ["body"]),  # the body limit: 413, below
    ("attribute of 1025 characters", _raw(_body({"n": "x" * 1025})), ["body", "annotations", 0, "attributes", "n"]),
    ("attribute a list", _raw(_body({"n": [1]})), ["body", "annotations", 0, "attributes", "n", "bool"]),
    ("attribute name empty", _raw(_body({"": 1})), ["body", "annotations", 0, "attributes", "", "[key]"]),
    ("attribute name of 65", _raw(_body({"k" * 65: 1})), ["body", "annotations", 0, "attributes", "k" * 65, "[key]"]),
    ("attribute name lone surrogate", _raw(_body({SURROGATE: 1})),
     ["body", "annotations", 0, "attributes", ANY, "[key]"]),
    ("65 attributes", _raw(_body({f"a{k}": k for k in range(65)})), ["body", "annotations", 0, "attributes"]),
    ("bbox NaN", _raw(_body(bbox=("@x", 2, 3, 4)), x="NaN"), ["body", "annotations", 0, "bbox", 0]),
    ("bbox Infinity", _raw(_body(bbox=(1, "@x", 3, 4)), x="Infinity"), ["body", "annotations", 0, "bbox", 1]),
    ("bbox 1e999", _raw(_body(bbox=(1, 2, "@x", 4)), x="1e999"), ["body", "annotations", 0, "bbox", 2]),
    ("bbox -Infinity", _raw(_body(bbox=(1, 2, 3, "@x")), x="-Infinity"), ["body", "annotations", 0, "bbox", 3]),
    ("category 2**63", _raw(_body(category_id=INT64_MAX + 1)), ["body", "annotations", 0, "category_id"]),
    ("tag lone surrogate", _raw(_body(tags={"weather": SURROGATE})), ["body", "tags", "weather"]),
    ("tag NUL", _raw(_body(tags={"weather": NUL})), ["body", "tags", "weather"]),
    ("tag name lone surrogate", _raw(_body(tags={SURROGATE: "rain"})), ["body", "tags", ANY, "[key]"]),
    ("tag of 257", _raw(_body(tags={"weather": "r" * 257})), ["body", "tags", "weather"]),
    ("65 tags", _raw(_body(tags={f"t{k}": "v" for k in range(65)})), ["body", "tags"]),
    ("10,001 objects", _raw(_body(objects=10_001)), ["body", "annotations"]),
    ("over the encoded size", _raw(_body(objects=9_000)), ["body"]),  # 360 KB of body, 520 KB as a message
    ("two objects of 64 long emoji attributes",
     _raw(_body({f"a{k:02}": EMOJI * 1024 for k in range(64)}, objects=2), ascii_only=False), ["body"]),
]


@pytest.fixture
def annotator(engine: Engine, client: TestClient) -> dict[str, str]:
    """An annotator holding task TASK."""
    add_tasks(engine, [manual_task(1)])
    headers = token(engine, "ann", Role.ANNOTATOR)
    assert client.post("/v1/tasks/claim", headers=headers).json()["task_id"] == TASK
    return headers


def _post(client: TestClient, path: str, raw: str, headers: dict[str, str]) -> Any:
    return client.post(path, content=raw.encode("utf-8"), headers={**headers, "Content-Type": "application/json"})


def _names(answer: Any, loc: list[Any]) -> bool:
    """Whether one of the 422's errors is at ``loc``."""
    return any(len(e["loc"]) == len(loc)
               and all(want is ANY or want == got for want, got in zip(loc, e["loc"], strict=True))
               for e in answer.json()["detail"])


def _nothing_stored(engine: Engine) -> None:
    with session_factory(engine)() as s:
        assert answers(s) == [] and task(s, TASK).state == TaskState.LEASED


@pytest.mark.parametrize(("case", "raw", "loc"), SUBMIT_REFUSED, ids=[c[0] for c in SUBMIT_REFUSED])
def test_a_hostile_submission_is_refused_naming_the_field_and_nothing_is_stored(
        engine: Engine, client: TestClient, annotator: dict[str, str], case: str, raw: str, loc: list[Any]) -> None:
    answer = _post(client, f"/v1/tasks/{TASK}/submit", raw, annotator)
    if len(raw.encode()) > 1024 * 1024:  # the body limit, in bytes
        assert answer.status_code == 413, answer.text
    else:
        assert answer.status_code == 422, answer.text
        assert _names(answer, loc), answer.json()
    _nothing_stored(engine)


ACCEPTED = [  # the edges of what the API takes: each is stored and its message fits a Kafka record
    ("int64 edges", _body({"max": INT64_MAX, "min": INT64_MIN, "zero": -0.0, "tiny": 5e-324, "huge": 1.7e308})),
    ("64 attributes of 1024 emoji", _body({f"a{k:02}": EMOJI * 1024 for k in range(64)})),
    ("64 long attribute names", _body({f"{k:02}" + "k" * 62: True for k in range(64)})),
    ("64 tags of 256 emoji", _body(tags={f"t{k:02}" + "k" * 61: EMOJI * 256 for k in range(64)})),
    ("odd but valid Unicode", _body({"n": "\u2028\ufeff\U0010ffff\u0301"}, tags={"\u00e9": "\ufffd"})),
    ("6,000 objects", _body(objects=6_000)),  # 87 bytes each as tagged box2d geometry: 6,026 fit the 512 KiB
]


@pytest.mark.parametrize(("case", "body"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_the_largest_valid_submission_is_stored_and_encodes_within_a_kafka_record(
        engine: Engine, client: TestClient, annotator: dict[str, str], case: str, body: dict[str, Any]) -> None:
    answer = _post(client, f"/v1/tasks/{TASK}/submit", json.dumps(body), annotator)
    assert answer.status_code == 200, answer.text
    with session_factory(engine)() as s:
        (row,) = answers(s)
        message = encode(annotation_message(row, task(s, TASK)))
    assert len(message) < KAFKA_RECORD
    assert len(json.dumps({"objects": row.objects, "tags": row.tags}, ensure_ascii=False).encode()) <= (
        SUBMISSION_MAX_BYTES + len(row.objects) * 16), "the size bound is the encoded message's, roughly"


OTHER_REFUSED: list[tuple[str, str, str, str, list[Any]]] = [  # role, method, path, body, loc
    ("annotator", "POST", f"/v1/tasks/{TASK}/skip", json.dumps({"reason": SURROGATE}), ["body", "reason"]),
    ("annotator", "POST", f"/v1/tasks/{TASK}/skip", json.dumps({"reason": f"dark{NUL}"}), ["body", "reason"]),
    ("annotator", "POST", f"/v1/tasks/{TASK}/skip", json.dumps({"reason": "r" * 501}), ["body", "reason"]),
    ("annotator", "POST", "/v1/tasks/driving%00/submit", json.dumps(_body()), ["path", "task_id"]),
    ("admin", "POST", "/v1/policy", json.dumps({"stratum": "*", "threshold": 0.5, "reason": SURROGATE}),
     ["body", "reason"]),
    ("admin", "POST", "/v1/policy", json.dumps({"stratum": f"fog{NUL}", "threshold": 0.5, "reason": "x"}),
     ["body", "stratum"]),
    ("admin", "POST", "/v1/policy", json.dumps({"stratum": "s" * 256, "threshold": 0.5, "reason": "x"}),
     ["body", "stratum"]),
    ("admin", "POST", "/v1/admin/tokens", json.dumps({"name": "", "role": "reader"}), ["body", "name"]),
    ("admin", "POST", "/v1/admin/tokens", json.dumps({"name": " ann", "role": "reader"}), ["body", "name"]),
    ("admin", "POST", "/v1/admin/tokens", json.dumps({"name": "ann\n", "role": "reader"}), ["body", "name"]),
    ("admin", "POST", "/v1/admin/tokens", json.dumps({"name": "admin (SHADOWQA_ADMIN_TOKEN)", "role": "admin"}),
     ["body", "name"]),
    ("admin", "POST", "/v1/admin/tokens", json.dumps({"name": "a" * 65, "role": "reader"}), ["body", "name"]),
    ("admin", "POST", "/v1/admin/tokens", json.dumps({"name": "\u00e9l\u00e8ve", "role": "reader"}),
     ["body", "name"]),
    ("admin", "POST", "/v1/admin/batches/export", json.dumps({"format": "cvat", "assignee": SURROGATE}),
     ["body", "assignee"]),
    ("admin", "POST", "/v1/gates/*/flagger", json.dumps({"metadata": {"target": SURROGATE}}),
     ["body", "metadata", "target"]),
    ("admin", "POST", "/v1/gates/*/flagger", json.dumps({"metadata": {"k" * 65: "1"}}),
     ["body", "metadata", "k" * 65, "[key]"]),
    ("admin", "POST", "/v1/gates/*/flagger", json.dumps({"metadata": {f"k{k}": "1" for k in range(65)}}),
     ["body", "metadata"]),
    ("admin", "POST", "/v1/gates/*/flagger", json.dumps({"name": SURROGATE, "metadata": {"target": "0.5"}}),
     ["body", "name"]),
    ("admin", "POST", "/v1/gates/%00/flagger", json.dumps({"metadata": {"target": "0.5"}}), ["path", "stratum"]),
    ("admin", "GET", "/v1/gates/%00?target=0.5", "", ["path", "stratum"]),
    ("admin", "GET", "/v1/gates/*?target=0.5&model_version=m%00", "", ["query", "model_version"]),
    ("admin", "POST", "/v1/admin/batches/import?format=cvat&assignee=team&rotated=sideways", "<annotations/>",
     ["query", "rotated"]),
    ("admin", "POST", "/v1/admin/batches/import?format=cvat&assignee=team&other_shapes=some", "<annotations/>",
     ["query", "other_shapes"]),
]


@pytest.mark.parametrize(("role", "method", "path", "raw", "loc"), OTHER_REFUSED,
                         ids=[f"{c[2].split('?')[0]} {c[4][-1]} {k}" for k, c in enumerate(OTHER_REFUSED)])
def test_every_other_field_a_client_writes_is_bounded(engine: Engine, client: TestClient, annotator: dict[str, str],
                                                      role: str, method: str, path: str, raw: str,
                                                      loc: list[Any]) -> None:
    headers = annotator if role == "annotator" else ADMIN
    answer = client.request(method, path, content=raw.encode(), headers={**headers,
                                                                         "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert loc in [error["loc"] for error in answer.json()["detail"]], answer.json()
    _nothing_stored(engine)
