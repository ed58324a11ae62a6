"""The project's own Label Studio: ``prepare`` (venv and template), ``up``, ``down``, ``status`` and ``throwaway``.

Label Studio (pinned in :data:`LABEL_STUDIO_VERSION`) runs from its own virtualenv, headless on 127.0.0.1 with
SQLite, detached from the caller, with one admin whose password and API token are generated once; files under
``.cache/labelstudio`` (see :class:`LabelStudioPaths`). Tests start throwaway servers from a copy of the template.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.infra import labelstudio_server as server
from services.infra.client import free_port, refuse_busy_port
from services.infra.exceptions import LabelStudioConflict, LabelStudioPortInUse, LabelStudioStartFailed
from services.infra.labelstudio_credentials import Credentials, load_credentials
from services.infra.labelstudio_paths import LabelStudioPaths
from services.infra.labelstudio_template import build_template, copy_template, template_ready
from services.infra.labelstudio_venv import LABEL_STUDIO_VERSION, ensure_venv, installed_version, kept_environment
from services.infra.paths import project_cache
from services.infra.process import exclusive, write_pid

DEFAULT_PORT = 8080
DEFAULT_LOCK_TTL_S = server.DEFAULT_LOCK_TTL_S
START_TIMEOUT_S = 300.0  # a fresh data folder's migrations took 40-100 s here; busy machines take longer
STOP_TIMEOUT_S = 30.0
Say = Callable[[str], None]


@dataclass(frozen=True)
class LabelStudioServer:
    """A running server and how to reach it as its admin."""

    url: str
    token: str = field(repr=False)
    username: str
    password: str = field(repr=False)
    data_dir: Path
    log: Path
    pid: int
    paths: LabelStudioPaths
    lock_ttl_s: int | None  # seconds a task stays locked to the annotator who opened it (None: unreadable)


@dataclass(frozen=True)
class ServerStatus:
    """Whether our server runs, where, and with which task lock TTL."""

    running: bool
    pid: int | None
    url: str | None
    version: str | None
    log: Path
    data_dir: Path
    lock_ttl_s: int | None = None


@dataclass(frozen=True)
class PrepareResult:
    """What ``prepare`` did: installed the venv, built the template; the admin's credentials."""

    installed: bool
    template_built: bool
    credentials: Credentials
    seconds: float


@dataclass(frozen=True)
class UpResult:
    """What ``up`` did: started the server (or found it running), after installing or building what was missing."""

    started: bool
    server: LabelStudioServer
    seconds: float
    installed: bool = False
    template_built: bool = False


def default_home() -> Path:
    """``.cache/labelstudio`` in the source checkout shadowqa runs from, else in the working directory."""
    return project_cache("labelstudio")


def default_paths() -> LabelStudioPaths:
    """The server's files under :func:`default_home`."""
    return LabelStudioPaths.under(default_home())


def status(paths: LabelStudioPaths) -> ServerStatus:
    """Our server's state from its pid file and command line."""
    pid = server.running_pid(paths.pid, paths.storage)
    if pid is None:
        return ServerStatus(running=False, pid=None, url=None, version=None, log=paths.log, data_dir=paths.storage)
    port = server.running_port(pid)
    return ServerStatus(running=True, pid=pid, url=server.url_of(port) if port else None,
                        version=installed_version(paths), log=paths.log, data_dir=paths.storage,
                        lock_ttl_s=server.running_lock_ttl(pid))


def prepare(paths: LabelStudioPaths, environ: Mapping[str, str] = os.environ, *,
            timeout_s: float = START_TIMEOUT_S, say: Say = lambda _: None) -> PrepareResult:
    """Install the venv and build the template unless they are there (slow once); no server is left running."""
    begin = time.monotonic()
    with exclusive(paths.home_lock):
        installed = ensure_venv(paths, environ, say=say)
        credentials = load_credentials(paths)
        built = not template_ready(paths, LABEL_STUDIO_VERSION, credentials)
        if built:
            build_template(paths, credentials, environ, version=LABEL_STUDIO_VERSION, timeout_s=timeout_s, say=say)
    return PrepareResult(installed=installed, template_built=built, credentials=credentials,
                         seconds=time.monotonic() - begin)


def up(paths: LabelStudioPaths, port: int, environ: Mapping[str, str] = os.environ, *,
       lock_ttl_s: int = DEFAULT_LOCK_TTL_S, timeout_s: float = START_TIMEOUT_S,
       say: Say = lambda _: None) -> UpResult:
    """Start our server on 127.0.0.1:``port`` unless it runs; return once its API answers the admin's token.

    ``lock_ttl_s``: how long a task stays locked to the annotator who opened it. A server that runs already keeps
    the TTL it was started with (the result says which; ``say`` gets a line when it is not ``lock_ttl_s``). The
    first run installs the venv and builds the template (``say`` gets progress lines); a new data folder starts as
    a copy of the template.
    """
    begin = time.monotonic()
    with exclusive(paths.lock):
        current = status(paths)
        if current.running and current.pid is not None:
            _check_same_port(current, port)
            _say_if_other_lock_ttl(current, lock_ttl_s, say)
            running = _server(paths, load_credentials(paths), current.pid, port, current.lock_ttl_s)
            return UpResult(started=False, server=running, seconds=time.monotonic() - begin)
        paths.pid.unlink(missing_ok=True)
        _check_port(port)
        ready = prepare(paths, environ, timeout_s=timeout_s, say=say)
        if not (paths.storage / server.DATABASE).is_file():
            say(f"new data folder {paths.storage}, copied from the template")
            copy_template(paths, paths.storage)
        _check_port(port)
        pid = _start(paths, ready.credentials, port, environ, lock_ttl_s=lock_ttl_s, timeout_s=timeout_s)
        return UpResult(started=True, server=_server(paths, ready.credentials, pid, port, lock_ttl_s),
                        seconds=time.monotonic() - begin, installed=ready.installed,
                        template_built=ready.template_built)


def down(paths: LabelStudioPaths, *, timeout_s: float = STOP_TIMEOUT_S) -> ServerStatus | None:
    """Stop our server if it runs (SIGTERM to its process group, SIGKILL after ``timeout_s``); its status before."""
    with exclusive(paths.lock):
        current = status(paths)
        if current.running and current.pid is not None:
            server.stop(current.pid, timeout_s)
        paths.pid.unlink(missing_ok=True)
        return current if current.running else None


@contextlib.contextmanager
def throwaway(home: Path | None = None, port: int | None = None, environ: Mapping[str, str] = os.environ, *,
              lock_ttl_s: int = DEFAULT_LOCK_TTL_S, timeout_s: float = START_TIMEOUT_S,
              say: Say = lambda _: None) -> Iterator[LabelStudioServer]:
    """A server of its own for a test: a copy of the template in a temporary folder, on a free (or the given) port.

    Stopped, and its folder removed, when the ``with`` block ends. Installs the venv and builds the template
    first if they are missing (slow once).
    """
    shared = LabelStudioPaths.under(home or default_home())
    paths = LabelStudioPaths(home=shared.home, data=Path(tempfile.mkdtemp(prefix="shadowqa-labelstudio-")))
    try:
        yield up(paths, port or free_port(), environ, lock_ttl_s=lock_ttl_s, timeout_s=timeout_s, say=say).server
    finally:
        down(paths)
        shutil.rmtree(paths.data, ignore_errors=True)


def _start(paths: LabelStudioPaths, credentials: Credentials, port: int, environ: Mapping[str, str], *,
           lock_ttl_s: int, timeout_s: float) -> int:
    """Launch and wait; a server that does not come up is stopped again, so the next ``up`` starts afresh."""
    env = server.server_environment(kept_environment(environ), paths.storage, credentials, lock_ttl_s=lock_ttl_s)
    argv = server.server_command(paths.executable, port, paths.storage)
    process = server.launch(argv, env, paths.log, cwd=paths.data, version=LABEL_STUDIO_VERSION)
    write_pid(paths.pid, process.pid)
    try:
        server.wait_ready(process, port, credentials.token, paths.log, paths.storage, timeout_s)
    except (LabelStudioStartFailed, KeyboardInterrupt):
        server.stop(process.pid, STOP_TIMEOUT_S)
        paths.pid.unlink(missing_ok=True)
        raise
    return process.pid


def _server(paths: LabelStudioPaths, credentials: Credentials, pid: int, port: int,
            lock_ttl_s: int | None) -> LabelStudioServer:
    return LabelStudioServer(url=server.url_of(port), token=credentials.token, username=credentials.username,
                             password=credentials.password, data_dir=paths.storage, log=paths.log, pid=pid,
                             paths=paths, lock_ttl_s=lock_ttl_s)


def _check_port(port: int) -> None:
    refuse_busy_port(server.HOST, port, server="Label Studio", remedy="--port", error=LabelStudioPortInUse)


def _check_same_port(current: ServerStatus, port: int) -> None:
    if current.url is not None and current.url != server.url_of(port):
        raise LabelStudioConflict(f"shadowqa's Label Studio already runs at {current.url} (pid {current.pid}), not "
                                  f"on port {port}; run `shadowqa infra labelstudio down` first to move it")


def _say_if_other_lock_ttl(current: ServerStatus, lock_ttl_s: int, say: Say) -> None:
    """A running server is not restarted for another lock TTL (that would end its annotators' sessions): say so."""
    if current.lock_ttl_s == lock_ttl_s:
        return
    running = "an unknown task lock TTL" if current.lock_ttl_s is None else f"a task lock TTL of {current.lock_ttl_s} s"
    say(f"Label Studio already runs with {running}, not the {lock_ttl_s} s asked, and keeps it; run `shadowqa infra "
        "labelstudio down` and `up` again to change it")


__all__ = ["DEFAULT_LOCK_TTL_S", "DEFAULT_PORT", "LABEL_STUDIO_VERSION", "LabelStudioPaths", "LabelStudioServer",
           "PrepareResult", "ServerStatus", "UpResult", "default_home", "default_paths", "down", "prepare", "status",
           "throwaway", "up"]
