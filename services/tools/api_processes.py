"""``shadowqa api serve`` processes for a run, a test or a benchmark: started, ready, stopped.

Each process listens on the port it is given (0: any free one, so nothing races
for a probed port) and names its base URL in its ready file once it answers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.tools.exceptions import ToolError
from services.tools.supervisor import python_env

START_S = 60.0  # how long a process may take to answer
STOP_S = 20.0  # how long it may take to stop after SIGTERM (the outbox publishes what is left)
LOG_TAIL = 20  # lines of its log a start failure shows


@dataclass(frozen=True)
class ApiProcess:
    url: str  # its base URL, http://HOST:PORT
    pid: int


@contextlib.contextmanager
def api_processes(count: int, env: Mapping[str, str], log_dir: Path, options: Sequence[str] = (), *,
                  port: int = 0, name: str = "api") -> Iterator[list[ApiProcess]]:
    """``count`` processes of ``shadowqa api serve --port PORT OPTIONS``, this process's environment plus ``env``,
    each logging to ``log_dir/NAME.log`` (``NAME-K.log`` when there are several); stopped when the block ends
    (SIGTERM to each one's process group, SIGKILL after STOP_S). A process that exits or does not answer within
    START_S raises :class:`ToolError` with the end of its log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    try:
        ready = []
        for k in range(count):
            stem = log_dir / (name if count == 1 else f"{name}-{k}")
            ready.append(_start(stem, env, [*options, "--port", str(port)], started))
        yield [ApiProcess(_wait(path, process), process.pid) for path, process in zip(ready, started, strict=True)]
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _start(stem: Path, env: Mapping[str, str], options: Sequence[str], started: list[subprocess.Popen[bytes]]) -> Path:
    ready = stem.with_suffix(".ready")
    ready.unlink(missing_ok=True)  # an earlier run's file must not announce this one
    argv = [sys.executable, "-m", "services.cli.main", "api", "serve", *options, "--ready-file", str(ready)]
    with stem.with_suffix(".log").open("ab") as log:
        started.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=python_env(env),
                                        start_new_session=True))
    return ready


def _wait(ready: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_S
    while not ready.exists():
        if process.poll() is not None:
            raise ToolError(f"the API exited with status {process.returncode}{_log_tail(ready)}")
        if time.monotonic() > deadline:
            raise ToolError(f"the API did not start within {START_S:.0f} s{_log_tail(ready)}")
        time.sleep(0.05)
    return ready.read_text(encoding="utf-8").strip()


def _log_tail(ready: Path) -> str:
    log = ready.with_suffix(".log")
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL:]
    return f"; {log} ends:\n" + "\n".join(lines)
