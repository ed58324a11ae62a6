"""The project's Label Studio, for real: throwaway servers from the template answer the REST API with the admin's
token and lock a task for the TTL asked, ``shadowqa infra labelstudio up|status|down`` on a scratch data folder, a
busy port refused.

The module's fixture installs Label Studio's venv and builds the template when they are missing (minutes,
once; ``make labelstudio`` does the same), so these tests never skip.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from services.cli.main import main
from services.infra.client import free_port
from services.infra.exceptions import InfraError, LabelStudioPortInUse
from services.infra.labelstudio import LabelStudioPaths, LabelStudioServer, default_paths, prepare, status, throwaway
from services.infra.process import environment
from tests.services.infra import fakes

# the first run on a machine installs about 1 GB and migrates a fresh database
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

LABEL_CONFIG = ('<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image">'
                '<Label value="car"/></RectangleLabels></View>')
TASK = {"image": "http://127.0.0.1:9/frames/f-0001.png", "frame_id": "f-0001"}


@pytest.fixture(scope="module")
def home() -> Path:
    """The project's Label Studio home, its venv installed and template built (slow once)."""
    paths = default_paths()
    try:
        prepare(paths, say=lambda line: print(f"shadowqa: {line}", file=sys.stderr, flush=True))
    except InfraError as exc:
        pytest.fail(f"Label Studio could not be installed or set up: {exc}; run `make labelstudio` to retry",
                    pytrace=False)
    return paths.home


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=30)


def test_throwaway_serves_the_rest_api_with_the_token(home: Path) -> None:
    with throwaway(home, lock_ttl_s=120) as server:
        assert status(server.paths).running and status(server.paths).url == server.url
        assert (environment(server.pid) or {}).get("TASK_LOCK_TTL") == "120"
        assert server.lock_ttl_s == status(server.paths).lock_ttl_s == 120
        with _client(server.url, server.token) as client:
            created = client.post("/api/projects/", json={"title": "shadowqa infra test", "label_config": LABEL_CONFIG})
            assert created.status_code == 201, created.text
            project = created.json()["id"]
            imported = client.post(f"/api/projects/{project}/import", json=[TASK])
            assert imported.status_code == 201 and imported.json()["task_count"] == 1, imported.text
            tasks = client.get(f"/api/projects/{project}/tasks/")
            assert tasks.status_code == 200 and [task["data"] for task in tasks.json()] == [TASK]
            opened = client.get(f"/api/projects/{project}/next")  # the label stream: locks the task to the admin
            assert opened.status_code == 200 and opened.json()["data"] == TASK, opened.text
        assert _lock_seconds(server) == pytest.approx(120, abs=1)
        assert httpx.get(f"{server.url}/api/projects/").status_code == 401  # no token, no API
        scratch = server.paths
    assert not status(scratch).running and not scratch.data.exists()


def _lock_seconds(server: LabelStudioServer) -> float:
    """How long the one task lock lasts, from Label Studio's database (its API does not show locks)."""
    with sqlite3.connect(server.data_dir / "label_studio.sqlite3") as db:
        [(created, expires)] = db.execute("SELECT created_at, expire_at FROM tasks_tasklock").fetchall()
    return (datetime.fromisoformat(expires) - datetime.fromisoformat(created)).total_seconds()


def test_each_throwaway_starts_from_the_pristine_template(home: Path) -> None:
    with throwaway(home) as first, _client(first.url, first.token) as client:
        client.post("/api/projects/", json={"title": "left behind", "label_config": LABEL_CONFIG}).raise_for_status()
    with throwaway(home) as second, _client(second.url, second.token) as client:
        assert client.get("/api/projects/").json()["count"] == 0


def test_cli_up_status_down_on_a_scratch_data_folder(home: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """``--home`` of links to the shared venv, template and credentials: a second server, the shared one untouched."""
    scratch = tmp_path / "labelstudio"
    scratch.mkdir()
    for name in ("venv", "template", "template.stamp", "secrets"):
        (scratch / name).symlink_to(home / name)
    port, started = free_port(), tmp_path / "started"
    args = ["infra", "labelstudio"]
    url = f"http://127.0.0.1:{port}"
    try:
        assert main([*args, "up", "--home", str(scratch), "--port", str(port), "--started-file", str(started),
                     "--lock-ttl", "90"]) == 0
        out, err = capsys.readouterr()
        assert out == f"{url}\n" and started.is_file()
        assert f"admin login admin@shadowqa.local, password in {scratch / 'secrets' / 'password'}" in err
        assert main([*args, "up", "--home", str(scratch), "--port", str(port), "--started-file", str(started),
                     "--show-credentials"]) == 0
        out, err = capsys.readouterr()
        token = (home / "secrets" / "token").read_text().strip()
        assert out == f"{url}\n" and not started.exists() and f"API token {token}" in err
        assert f"Label Studio already running at {url}" in err
        assert "already runs with a task lock TTL of 90 s, not the 300 s asked, and keeps it" in err
        assert main([*args, "status", "--home", str(scratch)]) == 0
        assert capsys.readouterr().out.startswith("running  pid ")
        with _client(url, token) as client:
            assert client.get("/api/projects/").status_code == 200
    finally:
        assert main([*args, "down", "--home", str(scratch)]) == 0
    assert capsys.readouterr().out.startswith(f"stopped Label Studio at {url} (pid ")
    assert main([*args, "status", "--home", str(scratch)]) == 3
    assert not LabelStudioPaths.under(scratch).pid.exists()


def test_busy_port_is_refused_with_one_line(home: Path) -> None:
    with fakes.squatter() as port, pytest.raises(LabelStudioPortInUse) as caught, throwaway(home, port=port):
        pass
    assert str(caught.value) == (f"port {port} on 127.0.0.1 is in use by a process that is not shadowqa's Label "
                                 "Studio; stop that process or choose another port with --port")
