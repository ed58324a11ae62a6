"""The simulated annotation team as a process of its own (``shadowqa simulate annotators``), for runs a test or
a benchmark drives by hand: started, waited for until it holds the queue's partitions, stopped with SIGINT (and,
if it hangs, killed with its threads' stacks in its log)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from services.tools.exceptions import WorkerFailed
from services.tools.supervisor import log_tail, python_env

if TYPE_CHECKING:
    from services.tools.pipeline_run import RunOptions

ANNOTATORS_READY_S = 120.0  # as the workers' wait: only against a team that never joins its group
ANNOTATORS_GRACE_S = 60.0  # after SIGINT: a team finishing its tasks on a busy machine took over 15 s (CI)
STACKS_WAIT_S = 2.0


@contextlib.contextmanager
def annotators(prefix: str, log_dir: Path, options: RunOptions) -> Iterator[subprocess.Popen[bytes]]:
    """``shadowqa simulate annotators`` working the run's queue until the block ends (then SIGINT: finish, commit).
    The block starts once the team holds the queue's partitions, as the workers are ready before it: a feed that
    began while the team was still starting (seconds, on a busy machine) routed half a short run before anyone
    annotated, so no policy could follow from people's answers in time."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path, ready = log_dir / "annotators.log", log_dir / "annotators.ready"
    ready.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "services.cli.main", "simulate", "annotators", "--workers", str(options.annotators),
            "--delay-ms", str(options.annotator_delay_ms), "--error-model", options.error_model,
            "--seed", str(options.seed), "--prefix", prefix, "--ready-file", str(ready)]
    with log_path.open("ab") as log:  # unbuffered: a killed process's last lines are in its log too
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   env=python_env({"PYTHONUNBUFFERED": "1"}))
    try:
        _wait_ready(process, ready, log_path)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)  # finish the task in hand, commit, exit
        try:
            process.wait(timeout=ANNOTATORS_GRACE_S)
        except subprocess.TimeoutExpired:
            kill_with_stacks(process, log_path, f"still running {ANNOTATORS_GRACE_S:.0f} s after SIGINT")


def _wait_ready(process: subprocess.Popen[bytes], ready: Path, log_path: Path) -> None:
    deadline = time.monotonic() + ANNOTATORS_READY_S
    while not ready.exists():
        if process.poll() is not None:
            raise WorkerFailed(f"simulate annotators exited with status {process.returncode} before it was ready; "
                               f"its log ({log_path}) ends:\n{log_tail(log_path)}")
        if time.monotonic() > deadline:
            raise WorkerFailed(f"simulate annotators not ready after {ANNOTATORS_READY_S:.0f} s (no partition of the "
                               f"queue assigned); its log ({log_path}) ends:\n{log_tail(log_path)}")
        time.sleep(0.1)


def kill_with_stacks(process: subprocess.Popen[bytes], log_path: Path, why: str) -> None:
    """SIGKILL a ``shadowqa`` tool's process group, its threads' stacks written to its log first (SIGUSR1:
    ``faulthandler``, registered by ``services.cli.main``), so a hang can be read afterwards."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGUSR1)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STACKS_WAIT_S)  # time to write the stacks (the process does not exit on SIGUSR1)
    with log_path.open("a") as log:
        log.write(f"pipeline run: {why}: killed (SIGKILL); its threads' stacks are above\n")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
