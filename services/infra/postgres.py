"""The project's own PostgreSQL: ``up`` (create the cluster, start it, role and database), ``down`` and ``status``.

A Debian cluster named ``shadowqa`` (``pg_createcluster``/``pg_ctlcluster``, run as root; the server
itself runs as ``postgres``) on 127.0.0.1:PORT, started by hand (``start.conf`` is ``manual``), with a
``shadowqa`` role (password ``shadowqa``, may create databases: the tests make one per test) owning a
``shadowqa`` database. The server comes from Debian's ``postgresql`` package; ``make system`` installs it.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from services.infra.client import port_in_use
from services.infra.exceptions import InfraError
from services.infra.paths import project_cache
from services.infra.process import exclusive

CLUSTER = "shadowqa"
ROLE = DATABASE = PASSWORD = "shadowqa"
HOST = "127.0.0.1"
SERVER_GLOB = "/usr/lib/postgresql/*/bin/postgres"
INSTALL_HINT = f"run `scripts/system-packages.sh 'postgresql:{SERVER_GLOB}'` as root (or `make system`)"
START_TIMEOUT_S = 60.0
COMMAND_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ClusterStatus:
    """Whether our cluster exists and runs, and where."""

    exists: bool
    running: bool
    version: str | None = None
    port: int | None = None
    log: Path | None = None
    socket_dir: str | None = None


@dataclass(frozen=True)
class UpResult:
    """What ``up`` did: created the cluster, started it (or found it running); the URL to connect with."""

    started: bool
    created: bool
    status: ClusterStatus
    url: str
    seconds: float


def database_url(port: int, database: str = DATABASE) -> str:
    """The SQLAlchemy URL of ``database`` on our cluster, as role ``shadowqa``."""
    return f"postgresql+psycopg://{ROLE}:{PASSWORD}@{HOST}:{port}/{database}"


def default_home() -> Path:
    """``.cache/postgres`` in the source checkout (the lock file lives there; the data is Debian's)."""
    return project_cache("postgres")


def server_version() -> str:
    """The newest installed PostgreSQL server's major version, e.g. ``"15"``; InfraError when none is."""
    versions = sorted((Path(p).parents[1].name for p in glob.glob(SERVER_GLOB)), key=_version_key)
    if not versions:
        raise InfraError(f"the PostgreSQL server is not installed (no {SERVER_GLOB}); {INSTALL_HINT}")
    return versions[-1]


def status() -> ClusterStatus:
    """Our cluster's state from ``pg_lsclusters --json`` (not installed: it does not exist)."""
    if not glob.glob(SERVER_GLOB):
        return ClusterStatus(exists=False, running=False)
    for cluster in _clusters():
        if cluster.get("cluster") == CLUSTER:
            return _status_of(cluster)
    return ClusterStatus(exists=False, running=False)


def up(port: int, *, timeout_s: float = START_TIMEOUT_S, home: Path | None = None,
       say: Callable[[str], None] = lambda _: None) -> UpResult:
    """Create (first run) and start our cluster unless it runs; make the role and database; wait for a login."""
    begin = time.monotonic()
    version = server_version()
    _need_root()
    with exclusive((home or default_home()) / "lock"):
        current = status()
        created = False
        if not current.exists:
            say(f"creating PostgreSQL {version} cluster {CLUSTER!r} on {HOST}:{port} (first run only)")
            _create(version, port)
            created, current = True, status()
        if current.port != port:
            raise InfraError(f"shadowqa's PostgreSQL cluster is configured for port {current.port}, not {port}; "
                             f"set SHADOWQA_POSTGRES_PORT={current.port}, or drop it with `pg_dropcluster --stop "
                             f"{current.version} {CLUSTER}`")
        started = not current.running
        if started:
            _check_port(port)
            _start(current, timeout_s)
            current = status()
        _ensure_role_and_database(current)
        url = database_url(port)
        wait_ready(url, timeout_s)
        return UpResult(started=started, created=created, status=current, url=url, seconds=time.monotonic() - begin)


def down(*, home: Path | None = None) -> ClusterStatus | None:
    """Stop our cluster if it runs (``pg_ctlcluster stop``, fast mode); its status before, or None."""
    current = status()
    if not current.running:
        return None
    _need_root()
    with exclusive((home or default_home()) / "lock"):
        _run(["pg_ctlcluster", str(current.version), CLUSTER, "stop", "--mode", "fast"], COMMAND_TIMEOUT_S)
    return current


def wait_ready(url: str, timeout_s: float) -> None:
    """Block until ``url`` accepts a login (psycopg, password auth over TCP); InfraError with the reason if not."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(conninfo, connect_timeout=2) as connection:
                connection.execute("SELECT 1")
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
                raise InfraError(f"PostgreSQL at {HOST} does not accept logins after {timeout_s:.0f} s: {reason}; "
                                 f"see {status().log}") from None
        time.sleep(0.2)


def _start(cluster: ClusterStatus, timeout_s: float) -> None:
    """``pg_ctlcluster start``; when it fails, the error names the server's own reason from its log."""
    try:
        _run(["pg_ctlcluster", str(cluster.version), CLUSTER, "start"], timeout_s)
    except InfraError as exc:
        raise InfraError(f"{exc}; the server log ({cluster.log}) says: {_last_fatal(cluster.log)}") from None


def _last_fatal(log: Path | None) -> str:
    try:
        lines = [] if log is None else log.read_text(errors="replace").splitlines()
    except OSError:
        return "(unreadable)"
    reasons = [line for line in lines[-50:] if "FATAL" in line or "ERROR" in line]
    return reasons[-1].strip() if reasons else "(nothing)"


def _create(version: str, port: int) -> None:
    """``pg_createcluster``, then our settings in its ``conf.d`` (``-o`` leaves an address unquoted)."""
    _run(["pg_createcluster", "--port", str(port), "--start-conf", "manual", "--encoding", "UTF8",
          "--locale", "C.UTF-8", version, CLUSTER, "--", "--auth-local=peer", "--auth-host=scram-sha-256"],
         COMMAND_TIMEOUT_S)
    conf = Path("/etc/postgresql") / version / CLUSTER / "conf.d" / "shadowqa.conf"
    conf.write_text(f"# written by `shadowqa infra postgres up`\nlisten_addresses = '{HOST}'\n", encoding="utf-8")


def _ensure_role_and_database(cluster: ClusterStatus) -> None:
    """Create role and database if missing; a role that exists keeps its password (ours is fixed anyway)."""
    _psql(cluster, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shadowqa') THEN "
                   f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'; END IF; END $$")
    if _psql(cluster, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'").strip() != "1":
        _psql(cluster, f"CREATE DATABASE {DATABASE} OWNER {ROLE}")


def _psql(cluster: ClusterStatus, sql: str) -> str:
    """Run ``sql`` as the ``postgres`` superuser over the Unix socket (peer authentication)."""
    return _run(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                 str(cluster.socket_dir), "-p", str(cluster.port), "-d", "postgres", "-tAc", sql], COMMAND_TIMEOUT_S)


def _check_port(port: int) -> None:
    if not port_in_use(HOST, port):
        return
    others = [f"{c.get('version')}/{c.get('cluster')}" for c in _clusters()
              if c.get("running") and str(c.get("port")) == str(port)]
    holder = f"PostgreSQL cluster {others[0]}" if others else "a process that is not shadowqa's PostgreSQL"
    raise InfraError(f"port {port} on {HOST} is in use by {holder}; stop it (e.g. `pg_ctlcluster "
                     f"{others[0].replace('/', ' ') if others else 'VERSION NAME'} stop`) or choose another port "
                     "with SHADOWQA_POSTGRES_PORT")


def _clusters() -> list[dict[str, Any]]:
    clusters: list[dict[str, Any]] = json.loads(_run(["pg_lsclusters", "--json"], COMMAND_TIMEOUT_S) or "[]")
    return clusters


def _status_of(cluster: dict[str, Any]) -> ClusterStatus:
    log = cluster.get("logfile")
    return ClusterStatus(exists=True, running=bool(cluster.get("running")), version=str(cluster.get("version")),
                         port=int(cluster["port"]), log=Path(log) if log else None,
                         socket_dir=cluster.get("socketdir") or "/var/run/postgresql")


def _run(argv: Sequence[str], timeout_s: float) -> str:
    """``argv``'s standard output; InfraError naming the command and its last error line when it fails."""
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout_s, check=False, env=env)
    except FileNotFoundError:
        raise InfraError(f"{argv[0]} not found: Debian's postgresql-common is missing; {INSTALL_HINT}") from None
    except subprocess.TimeoutExpired:
        raise InfraError(f"`{' '.join(argv[:4])} …` did not finish in {timeout_s:.0f} s") from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
        raise InfraError(f"`{' '.join(argv[:4])} …` failed (exit {done.returncode}): "
                         f"{lines[-1] if lines else 'no output'}")
    return done.stdout


def _need_root() -> None:
    if os.geteuid() != 0:
        raise InfraError("starting shadowqa's PostgreSQL cluster uses Debian's pg_createcluster/pg_ctlcluster, which "
                         "need root; run as root, or point SHADOWQA_DATABASE_URL at a server you run yourself")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


__all__ = ["CLUSTER", "ClusterStatus", "UpResult", "database_url", "default_home", "down", "server_version",
           "status", "up", "wait_ready"]
