"""Starting, watching and stopping the pipeline's worker processes (the demo, the tests, the benchmarks).

Each worker is ``shadowqa worker --role ROLE`` in its own process group, with
its log in ``log_dir``; it is ready once it has written its ready file (its
agents run). ``stop()`` sends SIGTERM, waits, then SIGKILLs what is left, so
nothing outlives the supervisor. Workers run in the caller's working directory
(``log_dir`` is made absolute, so the ready files are where the supervisor
looks), importing this very package wherever it is (:func:`python_env`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.loop.config import LOOP_ROLES, WORKER_ROLES
from services.tools.exceptions import WorkerFailed

ROLES = LOOP_ROLES  # what ``start_all`` starts: the shadow loop
EXTRA_ROLES = tuple(r for r in WORKER_ROLES if r not in LOOP_ROLES)  # started one by one with ``start`` (persist
# needs SHADOWQA_DATABASE_URL in ``env``)
STOP_GRACE_S = 15.0
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding ``services``, ``streams``, ``analysis``


@dataclass
class WorkerProcess:
    role: str
    index: int
    process: subprocess.Popen[bytes]
    ready_file: Path
    log: Path

    @property
    def name(self) -> str:
        return f"{self.role}-{self.index}"

    def alive(self) -> bool:
        return self.process.poll() is None


def python_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment plus ``extra``, with the package's folder first on ``PYTHONPATH``: a child
    ``python -m services.cli.main`` imports the code its parent runs, whatever its working directory."""
    path = os.pathsep.join(p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, **extra, "PYTHONPATH": path}


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


@dataclass
class Supervisor:
    """Worker processes of one pipeline run (one topic prefix)."""

    prefix: str
    log_dir: Path
    worker_args: Sequence[str] = ()  # extra ``shadowqa worker`` options (model, dataset, targets)
    env: Mapping[str, str] = field(default_factory=dict)  # extra SHADOWQA_* settings
    metrics_ports: Mapping[str, int] = field(default_factory=dict)  # role -> Prometheus port of its first worker
    workers: list[WorkerProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.log_dir = self.log_dir.resolve()

    def start(self, role: str, index: int | None = None) -> WorkerProcess:
        """Start one worker of ``role`` (``index`` names a restarted one)."""
        if role not in ROLES + EXTRA_ROLES:
            raise ValueError(f"unknown role {role!r}")
        index = sum(w.role == role for w in self.workers) if index is None else index
        self.log_dir.mkdir(parents=True, exist_ok=True)
        ready = self.log_dir / f"{role}-{index}.ready"
        ready.unlink(missing_ok=True)
        log = self.log_dir / f"{role}-{index}.log"
        argv = [sys.executable, "-m", "services.cli.main", "worker", "--role", role, "--ready-file", str(ready),
                "--loglevel", "info", *self.worker_args]
        if index == 0 and role in self.metrics_ports:
            argv += ["--metrics-port", str(self.metrics_ports[role])]
        env = python_env({**self.env, "SHADOWQA_TOPIC_PREFIX": self.prefix})
        with log.open("ab") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        worker = WorkerProcess(role, index, process, ready, log)
        self.workers.append(worker)
        return worker

    def start_all(self, counts: Mapping[str, int] | None = None, timeout_s: float = 120.0) -> None:
        for role in ROLES:
            for _ in range((counts or {}).get(role, 1)):
                self.start(role)
        self.wait_ready(timeout_s)

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Block until every live worker is ready; a worker that dies meanwhile is an error with its log."""
        deadline = time.monotonic() + timeout_s
        while True:
            waiting = [w for w in self.workers if not w.ready_file.exists()]
            for w in waiting:
                if not w.alive():
                    raise WorkerFailed(f"worker {w.name} exited with status {w.process.returncode} before it was "
                                       f"ready; its log ({w.log}) ends:\n{log_tail(w.log)}")
            if not waiting:
                return
            if time.monotonic() > deadline:
                names = ", ".join(w.name for w in waiting)
                raise WorkerFailed(f"workers not ready after {timeout_s:.0f} s: {names}; see {self.log_dir}")
            time.sleep(0.2)

    def check(self) -> None:
        """Raise if a worker died on its own."""
        for w in self.workers:
            if not w.alive() and w.process.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM):
                raise WorkerFailed(f"worker {w.name} exited with status {w.process.returncode}; its log ends:\n"
                                   f"{log_tail(w.log)}")

    def kill(self, role: str, index: int = 0) -> WorkerProcess:
        """SIGKILL a worker (the fault test); it is forgotten, restart it with ``start(role, index)``."""
        w = next(w for w in self.workers if w.role == role and w.index == index and w.alive())
        os.killpg(w.process.pid, signal.SIGKILL)
        w.process.wait()
        self.workers.remove(w)
        return w

    def stop(self) -> None:
        """SIGTERM every worker, wait up to STOP_GRACE_S, SIGKILL the rest."""
        for w in self.workers:
            if w.alive():
                _signal(w, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for w in self.workers:
            try:
                w.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(w, signal.SIGKILL)
                w.process.wait()
            _signal(w, signal.SIGKILL)  # anything the worker left in its process group
            w.ready_file.unlink(missing_ok=True)
        self.workers.clear()

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal(w: WorkerProcess, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(w.process.pid, sig)
