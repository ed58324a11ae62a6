"""``shadowqa dashboards push`` against a recording stand-in for Grafana's HTTP API (no Grafana runs here)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from dashboards.render import JSON_DIR
from services.cli.dashboards import DATASOURCE_UID, _slug
from services.cli.main import main
from tests.dashboards.grafana_standin import GrafanaState, grafana_standin

TOKEN = "glsa_test-token"
PROMETHEUS = "http://prometheus.example:9090"
COMMITTED = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(JSON_DIR.glob("*.json"))}


@pytest.fixture
def grafana() -> Iterator[tuple[str, GrafanaState]]:
    with grafana_standin(TOKEN) as served:
        yield served


def push(url: str, token: str = TOKEN, *extra: str) -> int:
    return main(["dashboards", "push", "--url", url, "--token", token, "--prometheus-url", PROMETHEUS, *extra])


def test_first_push_creates_datasource_folder_and_dashboards(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    assert push(url) == 0
    assert [(r.method, r.path) for r in state.requests] == [
        ("GET", f"/api/datasources/uid/{DATASOURCE_UID}"), ("POST", "/api/datasources"),
        ("GET", "/api/folders/shadowqa"), ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"), ("POST", "/api/dashboards/db"),
    ]
    assert {r.authorization for r in state.requests} == {f"Bearer {TOKEN}"}
    source = state.datasources[DATASOURCE_UID]
    assert (source["type"], source["url"], source["access"]) == ("prometheus", PROMETHEUS, "proxy")
    assert state.folders == {"shadowqa": {"title": "shadowqa", "uid": "shadowqa"}}
    assert sorted(state.dashboards) == sorted(model["uid"] for model in COMMITTED.values())


def test_pushed_dashboards_are_the_committed_json_with_our_datasource(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    assert push(url) == 0
    for model in COMMITTED.values():
        body = state.dashboards[model["uid"]]
        assert (body["overwrite"], body["folderUid"]) == (True, "shadowqa")
        sent = body["dashboard"]
        assert "id" not in sent
        assert sent["panels"] == model["panels"]
        variable = next(v for v in sent["templating"]["list"] if v["name"] == "datasource")
        assert variable["current"]["value"] == DATASOURCE_UID
        assert [v for v in sent["templating"]["list"] if v["name"] != "datasource"] == \
            [v for v in model["templating"]["list"] if v["name"] != "datasource"]


def test_push_again_updates_in_place(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    assert push(url) == 0
    first = (json.dumps(state.datasources, sort_keys=True), dict(state.folders), dict(state.dashboards))
    state.requests.clear()
    assert push(url) == 0
    assert [(r.method, r.path) for r in state.requests] == [
        ("GET", f"/api/datasources/uid/{DATASOURCE_UID}"), ("PUT", f"/api/datasources/uid/{DATASOURCE_UID}"),
        ("GET", "/api/folders/shadowqa"),
        ("POST", "/api/dashboards/db"), ("POST", "/api/dashboards/db"),
    ]
    assert (json.dumps(state.datasources, sort_keys=True), dict(state.folders), dict(state.dashboards)) == first
    assert set(state.versions.values()) == {2}


def test_folder_option_names_the_folder(grafana: tuple[str, GrafanaState]) -> None:
    url, state = grafana
    assert push(url, TOKEN, "--folder", "QA / Shadow mode") == 0
    assert state.folders == {"qa-shadow-mode": {"title": "QA / Shadow mode", "uid": "qa-shadow-mode"}}
    assert {body["folderUid"] for body in state.dashboards.values()} == {"qa-shadow-mode"}


def test_wrong_token_is_a_one_line_401_error(grafana: tuple[str, GrafanaState],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    url, state = grafana
    assert push(url, "wrong") == 2
    err = capsys.readouterr().err
    assert "401 Unauthorized" in err and "--token" in err and len(err.strip().splitlines()) == 1
    assert state.datasources == {} and state.dashboards == {}


def test_unreachable_grafana_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        assert push(url, TOKEN, "--timeout", "5") == 2
    err = capsys.readouterr().err
    assert f"cannot reach Grafana at {url}" in err and len(err.strip().splitlines()) == 1


def test_missing_dashboard_json_is_an_error(grafana: tuple[str, GrafanaState], tmp_path: pytest.TempPathFactory,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    url, state = grafana
    assert push(url, TOKEN, "--dashboards", str(tmp_path)) == 2
    assert "no dashboard JSON" in capsys.readouterr().err
    assert state.requests == []


@pytest.mark.parametrize(("name", "uid"), [
    ("shadowqa", "shadowqa"), ("QA / Shadow mode", "qa-shadow-mode"), ("--", "shadowqa"), ("x" * 50, "x" * 40),
])
def test_folder_uid(name: str, uid: str) -> None:
    assert _slug(name) == uid
