"""Detached processes: start in a new session (with a fresh log per start), recognise by pid and command line,
stop gracefully."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

POLL_S = 0.1
KILL_WAIT_S = 5.0


def start_detached(argv: Sequence[str], log: Path, cwd: Path,
                   env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session (no terminal, immune to the caller's Ctrl-C), output appended to ``log``.

    ``env`` replaces the caller's environment when given.
    """
    with log.open("ab") as out:
        return subprocess.Popen(list(argv), cwd=cwd, env=None if env is None else dict(env), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def start_logged(argv: Sequence[str], log: Path, cwd: Path, header: str,
                 env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """:func:`start_detached` into a fresh ``log`` that opens with ``header`` and the time (the last log kept as .1).

    :func:`services.infra.server_log.latest_output` reads back what this start wrote.
    """
    if log.exists():
        log.replace(log.with_name(log.name + ".1"))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    log.write_text(f"{header} at {stamp} ===\n", encoding="utf-8")
    return start_detached(argv, log, cwd, env)


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


def recorded_pid(pid_file: Path, ours: Callable[[list[str]], bool]) -> int | None:
    """The pid in ``pid_file`` if that process runs and is ours, else None.

    ``ours`` judges its command line (when it can be read), so a pid the system gave to an unrelated process since
    does not count.
    """
    pid = read_pid(pid_file)
    if pid is None or not is_alive(pid):
        return None
    argv = command_line(pid)
    return None if argv is not None and not ours(argv) else pid


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


def environment(pid: int) -> dict[str, str] | None:
    """The environment ``pid`` was started with (Linux ``/proc``), or None when it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    pairs = (part.decode(errors="replace").partition("=") for part in raw.split(b"\0") if part)
    return {name: value for name, _, value in pairs}


def terminate(pid: int, timeout_s: float, *, group: bool = False) -> bool:
    """Stop ``pid``: SIGTERM, up to ``timeout_s`` to exit, then SIGKILL. True if it had to be killed.

    With ``group``, each signal goes to the process group ``pid`` leads (a :func:`start_detached` process and the
    children it started), so none of them is left behind.
    """
    if not _signal(pid, signal.SIGTERM, group):
        return False
    if wait_exit(pid, timeout_s):
        return False
    _signal(pid, signal.SIGKILL, group)
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


def _signal(pid: int, signum: signal.Signals, group: bool) -> bool:
    """Send ``signum`` to ``pid`` or its process group; False when it is already gone."""
    try:
        (os.killpg if group else os.kill)(pid, signum)
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
