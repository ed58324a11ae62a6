"""A schemathesis run against the API's OpenAPI document, on PostgreSQL: no request makes it answer 5xx, and
every documented answer matches its schema.

Each generated request (valid and invalid ones: schemathesis's positive and negative modes) is sent as an
admin, a reader and an annotator, so the checks see the authorised paths as well as the refusals.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import Engine, text

from services.api.app import create_app
from services.api.tokens import Role
from services.db.engine import make_engine, upgrade
from services.db.models import RecommendationRow, StatsRow
from tests.services.api.helpers import ADMIN, ADMIN_TOKEN, add, add_tasks, comparison, frame_tasks, token
from tests.services.tools.memory import MemorySink

pytestmark = pytest.mark.slow
EXAMPLES = 25  # per operation and generation mode; about 20 operations, three identities each


@pytest.fixture(scope="module")
def fuzz_engine(postgres_server: Engine) -> Iterator[Engine]:
    """One migrated PostgreSQL database for the whole run, with tasks, comparisons, stats and recommendations."""
    name = f"shadowqa_fuzz_{uuid.uuid4().hex[:12]}"
    with postgres_server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.url.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    add_tasks(engine, [t for i in range(40) for t in frame_tasks(i, copies=1 + i % 2, stratum=f"weather=w{i % 3}")])
    add(engine, [comparison(i, accepted=i % 4 != 0, pi=(1.0, 0.5, 0.25)[i % 3], stratum=f"weather=w{i % 3}")
                 for i in range(60)])
    add(engine, [StatsRow(stratum="weather=w0", model_version="m@1", n=10, estimate=0.9, lower=0.7, upper=0.95,
                          decision="inconclusive", target=0.85, alpha=0.05, floor_estimate=0.9, floor_lower=0.8,
                          floor_upper=0.97, floor_n=5, time=1.0),
                 RecommendationRow(stratum="all", thresholds={"all": 0.9, "weather=w1": None}, automation_rate=0.2,
                                   action="raise", reason="certified", policy_version=0, time=1.0)])
    yield engine
    engine.dispose()
    with postgres_server.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture(scope="module")
def identities(fuzz_engine: Engine) -> dict[str, dict[str, str]]:
    return {"admin": ADMIN, "reader": token(fuzz_engine, "fuzz-reader", Role.READER),
            "annotator": token(fuzz_engine, "fuzz-annotator", Role.ANNOTATOR)}


@pytest.fixture(scope="module")
def fuzz_client(fuzz_engine: Engine) -> Iterator[TestClient]:
    app = create_app(fuzz_engine, admin_token=ADMIN_TOKEN, sink=MemorySink(), background=False)
    with TestClient(app) as client:
        yield client


# The operations come from the app's OpenAPI document, which needs no database (this app never serves a
# request); each case is sent to ``fuzz_client``'s app on PostgreSQL. Two incompatibilities of this
# environment decide how: schemathesis.pytest.from_fixture (4.32) sets ``node._nodeid``, which pytest 9 no
# longer has, and schemathesis's own requests transport trips over urllib3-future (grafana-client's niquests
# installs it in place of urllib3). So the case is serialised by schemathesis, sent with FastAPI's TestClient,
# and the response checked by schemathesis.
_app = create_app(make_engine("sqlite://"), background=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)
# The submission's body (objects, clip frames, tagged geometry) has so many constraints that schemathesis's coverage
# phase (a case per boundary of each, built at collection) made it 250 cases and 200 s: its bodies come from the
# examples and fuzzing phases alone, as many as the other operations get
submit_schema = schemathesis.openapi.from_asgi("/openapi.json", _app)
submit_schema.config.phases.update(phases=["examples", "fuzzing"])


def _send(client: TestClient, case: Any, headers: dict[str, str]) -> httpx.Response:
    request = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    assert not request.get("cookies") and "files" not in request, "the API takes neither"
    body: dict[str, Any] = {}
    if "json" in request:
        body["json"] = request["json"]
    elif isinstance(request.get("data"), str | bytes):
        body["content"] = request["data"]
    elif request.get("data") is not None:
        body["data"] = request["data"]
    return client.request(request["method"], request["url"], params=request.get("params"),
                          headers=request["headers"], **body)


SUBMIT = {"method": "POST", "path": "/v1/tasks/{task_id}/submit"}


def _check(case: Any, client: TestClient, identities: dict[str, dict[str, str]]) -> None:
    for headers in identities.values():
        response = _send(client, case, headers)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance], headers=headers)


@schema.exclude(**SUBMIT).parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_no_request_gets_a_server_error(case: Any, fuzz_client: TestClient,
                                        identities: dict[str, dict[str, str]]) -> None:
    _check(case, fuzz_client, identities)


@submit_schema.include(**SUBMIT).parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_no_submission_gets_a_server_error(case: Any, fuzz_client: TestClient,
                                           identities: dict[str, dict[str, str]]) -> None:
    _check(case, fuzz_client, identities)
