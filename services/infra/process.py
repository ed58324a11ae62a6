"""Detached processes: start in a new session, recognise by pid and command line, stop gracefully."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

POLL_S = 0.1
KILL_WAIT_S = 5.0


def start_detached(argv: Sequence[str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session (no terminal, immune to the caller's Ctrl-C), output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def read_pid(pid_file: Path) -> int | None:
    """The pid a pid file holds, or None when it is missing or garbled."""
    try:
        text = pid_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def write_pid(pid_file: Path, pid: int) -> None:
    """Record ``pid`` so later commands (``down``, ``status``) find the detached process."""
    pid_file.write_text(f"{pid}\n", encoding="ascii")


def is_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not; if it is our exited child, it is reaped here)."""
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) not in ("Z", "X")


def command_line(pid: int) -> list[str] | None:
    """The arguments ``pid`` was started with (Linux ``/proc``), or None when they cannot be read.

    The kernel shows an empty command line for a moment while a process execs (its new memory is in place before
    its arguments are), and for zombies; that is "cannot be read", not "started with no arguments".
    """
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part] or None


def terminate(pid: int, timeout_s: float) -> bool:
    """Stop ``pid``: SIGTERM, up to ``timeout_s`` to exit, then SIGKILL. True if it had to be killed."""
    if not _signal(pid, signal.SIGTERM):
        return False
    if wait_exit(pid, timeout_s):
        return False
    _signal(pid, signal.SIGKILL)
    wait_exit(pid, KILL_WAIT_S)
    return True


def wait_exit(pid: int, timeout_s: float) -> bool:
    """Poll until ``pid`` has exited or ``timeout_s`` passed; whether it exited."""
    deadline = time.monotonic() + timeout_s
    while is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)
    return True


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_file`` (created if missing) for the ``with`` block."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _signal(pid: int, signum: signal.Signals) -> bool:
    """Send ``signum``; False when the process is already gone."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True


def _proc_state(pid: int) -> str:
    """The one-letter state in ``/proc/<pid>/stat`` (R, S, Z, …), or "" when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    after_name = stat.rpartition(")")[2].split()
    return after_name[0] if after_name else ""
