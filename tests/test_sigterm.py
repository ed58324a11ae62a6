"""SIGTERM to a pytest run stops the processes its tests started (tests/utils/sigterm.py), instead of orphaning them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# a test that starts a child and stops it on the way out, as Supervisor does with the workers
CHILD_TEST = '''
import subprocess, sys, time
from pathlib import Path

def test_runs_a_child(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        Path({pid_file!r}).write_text(str(child.pid))
        time.sleep(600)
    finally:
        child.kill()
        child.wait()
'''


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_sigterm_unwinds_the_running_test_and_its_child_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    (tmp_path / "test_child.py").write_text(CHILD_TEST.format(pid_file=str(pid_file)))
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "tests.utils.sigterm", "-p", "no:cacheprovider",
                            "--rootdir", str(tmp_path), str(tmp_path / "test_child.py")],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while not pid_file.exists() or not pid_file.read_text():  # progress: the test has started its child
            assert run.poll() is None, f"the inner pytest ended early: {run.communicate()[0]}"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert not _alive(child), f"the test's child outlived pytest's SIGTERM: {output}"
    assert "KeyboardInterrupt" in output and "SIGTERM" in output
