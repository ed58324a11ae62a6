"""``up`` and ``shadowqa infra labelstudio`` when something is wrong, with a stand-in ``label-studio`` executable in a
scratch home: one clear error, exit status 2, nothing left running, nothing installed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.cli.infra_labelstudio import default_port, up_lines
from services.cli.main import main
from services.infra.exceptions import LabelStudioStartFailed
from services.infra.labelstudio import LabelStudioServer, UpResult, status, up
from services.infra.labelstudio_credentials import load_credentials
from services.infra.labelstudio_paths import LabelStudioPaths
from services.infra.labelstudio_template import template_stamp_text
from services.infra.labelstudio_venv import LABEL_STUDIO_VERSION, stamp_text
from services.infra.process import is_alive, start_detached, terminate, write_pid
from services.settings import Settings
from tests.services.infra import fakes


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["infra", "labelstudio", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def paths(tmp_path: Path) -> LabelStudioPaths:
    return LabelStudioPaths.under(tmp_path / "labelstudio")


def _installed(paths: LabelStudioPaths, script: str) -> LabelStudioPaths:
    """A home whose venv and template look ready, its ``label-studio`` running ``script`` (``$6`` is the port)."""
    fakes.tool(paths.executable.parent, "label-studio", script)
    paths.install_stamp.write_text(stamp_text(LABEL_STUDIO_VERSION))
    paths.template.mkdir(parents=True)
    (paths.template / "label_studio.sqlite3").write_bytes(b"")
    paths.template_stamp.write_text(template_stamp_text(LABEL_STUDIO_VERSION, load_credentials(paths)))
    return paths


@pytest.fixture
def squatted() -> Iterator[int]:
    """A port on 127.0.0.1 that another process listens on."""
    with fakes.squatter() as port:
        yield port


def test_status_and_down_of_a_server_never_started(paths: LabelStudioPaths,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    home = str(paths.home)
    assert _run(capsys, "status", "--home", home)[:2] == (
        3, "stopped  (start it with `shadowqa infra labelstudio up`)\n")
    assert _run(capsys, "down", "--home", home)[:2] == (0, "Label Studio not running\n")


def test_stale_pid_file_reads_as_stopped(paths: LabelStudioPaths, capsys: pytest.CaptureFixture[str]) -> None:
    paths.data.mkdir(parents=True)
    paths.pid.write_text("999999999\n")
    assert _run(capsys, "status", "--home", str(paths.home))[0] == 3
    assert _run(capsys, "down", "--home", str(paths.home))[0] == 0
    assert not paths.pid.exists()


def test_busy_port_is_refused_before_installing(paths: LabelStudioPaths, squatted: int,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "up", "--home", str(paths.home), "--port", str(squatted))
    assert (code, out) == (2, "")
    assert err == (f"shadowqa: error: port {squatted} on 127.0.0.1 is in use by a process that is not shadowqa's "
                   "Label Studio; stop that process or choose another port with --port\n")
    assert not paths.venv.exists()


def test_server_that_exits_is_quoted_and_cleaned_up(paths: LabelStudioPaths) -> None:
    _installed(paths, """echo 'Initializing database..'
echo 'Traceback (most recent call last):'
echo '  File "manage.py", line 1, in <module>'
echo 'django.db.utils.OperationalError: unable to open database file'
exit 1""")
    with pytest.raises(LabelStudioStartFailed, match=r"^Label Studio exited during start-up \(exit status 1\): "
                       r"django\.db\.utils\.OperationalError: unable to open database file; full log: .*server\.log$"):
        up(paths, fakes.free_port(), {"PATH": "/usr/bin:/bin"}, timeout_s=60)
    assert not paths.pid.exists() and not status(paths).running
    assert (paths.storage / "label_studio.sqlite3").is_file()  # the new data folder came from the template


def test_server_that_moves_to_another_port_is_stopped(paths: LabelStudioPaths) -> None:
    """Label Studio's own fallback for a busy port (the next free one) would leave clients talking to nothing."""
    _installed(paths, """echo "* Port $6 is in use."
echo "* Trying to start at $(($6 + 1))"
echo $$ > moved.pid
exec sleep 60""")
    with pytest.raises(LabelStudioStartFailed, match=r"found port \d+ on localhost in use and moved to another port, "
                                                     "so it was stopped again"):
        up(paths, fakes.free_port(), {"PATH": "/usr/bin:/bin"}, timeout_s=60)
    assert not is_alive(int((paths.data / "moved.pid").read_text()))
    assert not paths.pid.exists()


def test_server_that_never_answers_times_out(paths: LabelStudioPaths) -> None:
    _installed(paths, "echo 'Initializing database..'\nexec sleep 60")
    with pytest.raises(LabelStudioStartFailed, match=r"did not answer on http://127\.0\.0\.1:\d+ within 1 s, so it "
                                                     r"was stopped again: Initializing database\.\.; full log: "):
        up(paths, fakes.free_port(), {"PATH": "/usr/bin:/bin"}, timeout_s=1)
    assert not status(paths).running


@pytest.fixture
def running(paths: LabelStudioPaths) -> Iterator[int]:
    """A stand-in for our server, started with TASK_LOCK_TTL=60 (its command line names the port and data folder);
    yields the port."""
    port = fakes.free_port()
    paths.data.mkdir(parents=True)
    argv = [sys.executable, "-c", "import sys, time; print('up', flush=True); time.sleep(60)", "-p", str(port),
            "--data-dir", str(paths.storage)]
    process = start_detached(argv, paths.log, paths.data, env={"TASK_LOCK_TTL": "60"})
    write_pid(paths.pid, process.pid)
    try:
        while "up" not in paths.log.read_text():  # the kernel shows the arguments once the exec is done
            assert process.poll() is None, paths.log.read_text()
            time.sleep(0.01)
        yield port
    finally:
        terminate(process.pid, 10)


def test_status_reads_the_lock_ttl_the_server_runs_with(paths: LabelStudioPaths, running: int) -> None:
    state = status(paths)
    assert (state.running, state.url, state.lock_ttl_s) == (True, f"http://127.0.0.1:{running}", 60)


def test_up_keeps_a_running_server_and_says_its_lock_ttl_is_not_the_one_asked(paths: LabelStudioPaths,
                                                                               running: int) -> None:
    said: list[str] = []
    result = up(paths, running, {}, lock_ttl_s=300, say=said.append)
    assert not result.started and result.server.lock_ttl_s == 60
    assert said == ["Label Studio already runs with a task lock TTL of 60 s, not the 300 s asked, and keeps it; run "
                    "`shadowqa infra labelstudio down` and `up` again to change it"]
    said.clear()
    assert up(paths, running, {}, lock_ttl_s=60, say=said.append).server.lock_ttl_s == 60 and said == []


@pytest.mark.parametrize(("url", "port"), [
    ("http://127.0.0.1:8080", 8080),
    ("http://127.0.0.1:9001/", 9001),
    ("http://localhost:9002", 9002),
    ("https://labelstudio.example.org:8443", 8080),
    ("http://127.0.0.1", 8080),
])
def test_default_port_follows_a_local_url(url: str, port: int) -> None:
    assert default_port(Settings(labelstudio_url=url)) == port


@pytest.mark.parametrize(("show", "expected"), [
    (False, "admin login a@b.c, password in /h/secrets/password; API token (Authorization: Token …) in "
            "/h/secrets/token"),
    (True, "admin login a@b.c, password pw; API token tok"),
])
def test_up_names_the_credentials_files_unless_asked(show: bool, expected: str) -> None:
    server = LabelStudioServer(url="http://127.0.0.1:8080", token="tok", username="a@b.c", password="pw",
                               data_dir=Path("/h/data/labelstudio"), log=Path("/h/data/server.log"), pid=7,
                               paths=LabelStudioPaths.under(Path("/h")), lock_ttl_s=300)
    lines = up_lines(UpResult(started=False, server=server, seconds=0.1), show_credentials=show)
    assert lines == ["Label Studio already running at http://127.0.0.1:8080 (pid 7), task lock TTL 300 s", expected]
