"""One Label Studio server process: its environment and command line, launch, readiness and stop.

The names below were checked against label-studio 1.23.2's own source: ``label_studio/server.py``
(``--data-dir``, ``--internal-host``, ``-p``; the admin from ``get_env('USERNAME')``, ``PASSWORD``,
``USER_TOKEN``, which try ``LABEL_STUDIO_<NAME>``, ``HEARTEX_<NAME>`` and the bare name in that order) and
``label_studio/core/settings/{base,label_studio}.py`` (the rest).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from services.infra.exceptions import LabelStudioStartFailed
from services.infra.labelstudio_credentials import Credentials
from services.infra.process import command_line, environment, recorded_pid, start_logged, terminate
from services.infra.server_log import latest_output, problem_line, shorten

HOST = "127.0.0.1"
DATABASE = "label_studio.sqlite3"  # in the data folder, with DJANGO_DB=sqlite
# How long a task stays locked to the annotator who opened it: shadowqa's default lease (ApiConfig.lease_s; a test
# keeps the two equal), not Label Studio's own default of a day (core/settings/base.py), which it keeps when unset.
DEFAULT_LOCK_TTL_S = 300
LABEL_STUDIO_LOCK_TTL_S = 86400
LOCK_TTL_VARIABLE = "TASK_LOCK_TTL"
READY_POLL_S = 0.5
PROBE_TIMEOUT_S = 5.0
START_HEADER = "=== shadowqa: starting Label Studio"
_SERVING = re.compile(r"Starting development server at http://([\w.:\[\]-]+):(\d+)/")
_MOVED = re.compile(r"\* Port (\d+) is in use\.")
_PROBLEM = re.compile(r"\b(ERROR|CRITICAL|FATAL)\b|\w(Error|Exception)\b")


def server_environment(kept: Mapping[str, str], storage: Path, credentials: Credentials, *,
                       lock_ttl_s: int) -> dict[str, str]:
    """The environment of ``label-studio start``: ``kept`` (PATH, HOME, locale) plus our settings."""
    return {
        **kept,
        LOCK_TTL_VARIABLE: str(lock_ttl_s),  # base.py: seconds a task stays locked to the annotator who opened it
        "LABEL_STUDIO_BASE_DATA_DIR": str(storage),  # base.py: the SQLite file, media and exports live here
        "DJANGO_DB": "sqlite",  # label_studio.py: DATABASES_ALL[DJANGO_DB]
        "LABEL_STUDIO_USERNAME": credentials.username,  # server.py _create_user: the admin, made once
        "LABEL_STUDIO_PASSWORD": credentials.password,
        "LABEL_STUDIO_USER_TOKEN": credentials.token,  # set as the admin's token when the admin is made
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",  # base.py; the organisation then takes `Token <token>`
        "SENTRY_DSN": "",  # label_studio.py defaults both to HumanSignal's Sentry
        "FRONTEND_SENTRY_DSN": "",
        "LATEST_VERSION_CHECK": "false",  # no PyPI look-up for a newer release
        "COLLECT_ANALYTICS": "false",
        "SSRF_PROTECTION_ENABLED": "false",  # webhooks to 127.0.0.1 are allowed (a bridge on loopback)
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",  # the log shows each line when it is printed, e.g. the port it serves on
    }


def server_command(executable: Path, port: int, storage: Path) -> list[str]:
    """``label-studio start`` headless on loopback; ``label-studio --version`` would start a server instead."""
    return [str(executable), "start", "--no-browser", "--internal-host", HOST, "-p", str(port),
            "--data-dir", str(storage)]


def url_of(port: int) -> str:
    return f"http://{HOST}:{port}"


def launch(argv: list[str], env: Mapping[str, str], log: Path, cwd: Path, version: str) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session (its own process group), output in a fresh ``log`` (the last kept as .1)."""
    return start_logged(argv, log, cwd, f"{START_HEADER} {version}", env)


def wait_ready(process: subprocess.Popen[bytes], port: int, token: str, log: Path, storage: Path,
               timeout_s: float) -> None:
    """Return once the log says Label Studio serves on ``port`` and its API answers ``token``; raise otherwise.

    Raises at once when the process exits or moves to another port (its own fallback for a busy port).
    """
    url = url_of(port)
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, timeout=PROBE_TIMEOUT_S, headers={"Authorization": f"Token {token}"}) as client:
        while True:
            code = process.poll()
            if code is not None:
                raise LabelStudioStartFailed(f"Label Studio exited during start-up (exit status {code}): "
                                             f"{log_tail(log)}; full log: {log}")
            text = latest_start(log)
            moved = _MOVED.search(text)
            if moved is not None and int(moved.group(1)) == port:
                raise LabelStudioStartFailed(f"Label Studio found port {port} on localhost in use and moved to "
                                             "another port, so it was stopped again; choose another port")
            if serving_port(text) == port and _answers(client, url, storage):
                return
            if time.monotonic() >= deadline:
                raise LabelStudioStartFailed(f"Label Studio did not answer on {url} within {timeout_s:g} s, so it "
                                             f"was stopped again: {log_tail(log)}; full log: {log}")
            time.sleep(READY_POLL_S)


def stop(pid: int, timeout_s: float) -> bool:
    """Stop the server's process group (SIGTERM, SIGKILL after ``timeout_s``); True if it had to be killed."""
    return terminate(pid, timeout_s, group=True)


def running_pid(pid_file: Path, storage: Path) -> int | None:
    """The pid in ``pid_file`` if it runs and is Label Studio started on ``storage`` (not a reused pid)."""
    return recorded_pid(pid_file, lambda argv: _option(argv, "--data-dir") == str(storage))


def running_lock_ttl(pid: int) -> int | None:
    """The task lock TTL a server we started runs with, from its environment; None when that cannot be read."""
    env = environment(pid)
    if env is None:
        return None
    value = env.get(LOCK_TTL_VARIABLE, "")
    return int(value) if value.isdigit() else LABEL_STUDIO_LOCK_TTL_S


def running_port(pid: int) -> int | None:
    """The port a server we started listens on, from its command line."""
    value = _option(command_line(pid) or [], "-p")
    return int(value) if value is not None and value.isdigit() else None


def serving_port(log_text: str) -> int | None:
    """The port Django's runserver says it serves on, once it said so."""
    found = _SERVING.search(log_text)
    return int(found.group(2)) if found else None


def latest_start(log: Path) -> str:
    """The log's text since the latest start header."""
    return latest_output(log, START_HEADER) or ""


def log_tail(log: Path) -> str:
    """The latest start's last error line (a traceback's last line), else its last line, for one-line messages."""
    lines = [line for line in latest_start(log).splitlines()[1:] if line.strip()]
    return problem_line(lines, _PROBLEM) or (shorten(lines[-1].strip()) if lines else "nothing logged")


def _answers(client: httpx.Client, url: str, storage: Path) -> bool:
    """Whether ``/health`` is up and the API takes our token; a refused token is an error, not "not yet"."""
    try:
        if client.get("/health").status_code != 200:
            return False
        reply = client.get("/api/projects/", params={"page_size": 1})
    except httpx.HTTPError:
        return False
    if reply.status_code in (401, 403):
        raise LabelStudioStartFailed(f"Label Studio at {url} refuses our API token (HTTP {reply.status_code}): its "
                                     f"data folder {storage} was set up with other credentials, so it was stopped "
                                     "again; remove that folder to start afresh from the template")
    return reply.status_code == 200


def _option(argv: list[str], name: str) -> str | None:
    """The value after ``name`` in ``argv``."""
    for index, arg in enumerate(argv[:-1]):
        if arg == name:
            return argv[index + 1]
    return None
