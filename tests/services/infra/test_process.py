"""Detached processes: pid files, liveness (zombies count as gone), graceful stop with a kill fallback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.infra.process import (
    command_line,
    is_alive,
    read_pid,
    start_detached,
    terminate,
    wait_exit,
    write_pid,
)


@pytest.mark.parametrize(("text", "pid"), [("1234\n", 1234), ("", None), ("abc", None), ("-5", None), ("0", None)])
def test_read_pid(tmp_path: Path, text: str, pid: int | None) -> None:
    path = tmp_path / "x.pid"
    path.write_text(text)
    assert read_pid(path) == pid


def test_missing_pid_file(tmp_path: Path) -> None:
    assert read_pid(tmp_path / "none.pid") is None
    write_pid(tmp_path / "x.pid", 42)
    assert read_pid(tmp_path / "x.pid") == 42


def test_exited_child_is_not_alive(tmp_path: Path) -> None:
    child = start_detached([sys.executable, "-c", "pass"], tmp_path / "out.log", cwd=tmp_path)
    child.wait()
    assert not is_alive(child.pid)


def test_terminate_stops_a_detached_process_and_reaps_it(tmp_path: Path) -> None:
    child = start_detached([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
                           tmp_path / "out.log", cwd=tmp_path)
    assert is_alive(child.pid)
    _wait_for_output(tmp_path / "out.log", "up")  # Popen returns mid-exec, before the kernel shows the arguments
    assert "time.sleep(60)" in " ".join(command_line(child.pid) or [])
    assert terminate(child.pid, timeout_s=10) is False
    assert not is_alive(child.pid)


def test_terminate_of_a_group_stops_what_the_process_started_too(tmp_path: Path) -> None:
    """A group stop (how Label Studio is stopped) leaves nothing the process started behind."""
    child = start_detached(["/bin/sh", "-c", "sleep 60 & echo $!; wait"], tmp_path / "out.log", cwd=tmp_path)
    deadline = time.monotonic() + 30
    while not (tmp_path / "out.log").read_text().strip():
        assert time.monotonic() < deadline and child.poll() is None, "the shell never started its child"
        time.sleep(0.02)
    grandchild = int((tmp_path / "out.log").read_text())
    assert terminate(child.pid, timeout_s=10, group=True) is False
    assert not is_alive(child.pid) and wait_exit(grandchild, 10)


def _wait_for_output(log: Path, line: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while line not in log.read_text(errors="replace").splitlines():
        assert time.monotonic() < deadline, f"no {line!r} in {log} after {timeout_s} s"
        time.sleep(0.02)


def test_command_line_of_a_gone_process_is_none(tmp_path: Path) -> None:
    child = start_detached([sys.executable, "-c", "pass"], tmp_path / "out.log", cwd=tmp_path)
    child.wait()
    assert command_line(child.pid) is None


def test_terminate_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); " \
             "time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True)
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    assert terminate(child.pid, timeout_s=0.3) is True
    assert not is_alive(child.pid)


def test_terminate_of_a_gone_process(tmp_path: Path) -> None:
    child = start_detached([sys.executable, "-c", "pass"], tmp_path / "out.log", cwd=tmp_path)
    child.wait()
    assert terminate(child.pid, timeout_s=1) is False
