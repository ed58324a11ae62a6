"""A tool that outlives its grace is killed with its threads' stacks in its log, so the hang can be read later."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from services.tools.annotator_process import kill_with_stacks
from services.tools.supervisor import python_env

HUNG = """
import signal, sys, time
from services.cli.main import stacks_on_sigusr1
stacks_on_sigusr1()
signal.signal(signal.SIGINT, signal.SIG_IGN)  # deaf to the polite stop, as a hung tool is
print("ready", flush=True)
def waiting_for_a_coordinator():
    time.sleep(600)
waiting_for_a_coordinator()
"""


def test_a_hung_tool_is_killed_with_its_stacks_in_its_log(tmp_path: Path) -> None:
    log_path = tmp_path / "tool.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen([sys.executable, "-c", HUNG], stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=python_env({"PYTHONUNBUFFERED": "1"}))
    while "ready" not in log_path.read_text():  # waits on the child's progress, however slow the machine
        assert process.poll() is None, log_path.read_text()
        time.sleep(0.05)
    kill_with_stacks(process, log_path, "still running after SIGINT")
    text = log_path.read_text()
    assert process.returncode == -9
    assert "waiting_for_a_coordinator" in text and "most recent call first" in text  # faulthandler's dump
    assert text.rstrip().endswith("still running after SIGINT: killed (SIGKILL); its threads' stacks are above")
