"""A private PostgreSQL server for a test that stops and starts it: never the shared cluster other tests use.

``initdb`` into a fresh folder under the system's temporary directory, then ``pg_ctl`` start and stop on
127.0.0.1 at a free port, its socket in its own folder, trust authentication (the server listens on loopback
only and lives as long as the test). The server binaries are Debian's (``services/infra/postgres.py`` finds
them); PostgreSQL refuses to run as root, so as root every command runs as ``postgres`` (``runuser``), which
owns the folder. Flushing to disk is switched off (a test survives no power cut), but every commit is written
before it is confirmed, so ``pg_ctl stop -m immediate`` ends the server as a crash does (no shutdown
checkpoint: a crash recovery on the next start) and loses nothing it confirmed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from services.infra.client import free_port
from services.infra.postgres import server_version, wait_ready

ROLE = DATABASE = "shadowqa"
HOST = "127.0.0.1"
START_S = 120  # how long pg_ctl waits for a start (a crash recovery included) on a busy machine
# no fsync: a stopped server loses nothing the operating system holds; synchronous_commit stays on, or a commit
# the server confirmed would be lost on an immediate stop (its WAL still in the server's buffers)
SETTINGS = ("fsync = off", "full_page_writes = off", "max_connections = 100")


@dataclass
class PrivatePostgres:
    """One server's folder and port; :meth:`start` and :meth:`stop` as often as the test needs."""

    home: Path
    port: int

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    @property
    def url(self) -> str:
        return self.url_of(DATABASE)

    def url_of(self, database: str) -> str:
        return f"postgresql+psycopg://{ROLE}@{HOST}:{self.port}/{database}"

    def init(self) -> None:
        """``initdb`` with our role as the superuser, our settings, and the database created."""
        _run(self.home, [_bin("initdb"), "-D", str(self.data), "-U", ROLE, "--auth=trust", "-E", "UTF8",
                         "--locale=C.UTF-8"])
        lines = [f"listen_addresses = '{HOST}'", f"port = {self.port}", f"unix_socket_directories = '{self.home}'",
                 *SETTINGS]
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join(["# a test's private server", *lines]) + "\n")
        self.start(database="postgres")
        with psycopg.connect(host=HOST, port=self.port, user=ROLE, dbname="postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {DATABASE}")

    def start(self, database: str = DATABASE) -> None:
        """Start the server and wait until it accepts logins to ``database``."""
        _run(self.home, [_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_S),
                         "start"])
        wait_ready(self.url_of(database), START_S)

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server: ``immediate`` ends every backend at once, as a crash does (no checkpoint)."""
        _run(self.home, [_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh private server, running, with the database ``shadowqa``; stopped and removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="shadowqa-private-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(home, account.pw_uid, account.pw_gid)
    server = PrivatePostgres(home, free_port())
    try:
        server.init()
        yield server
    finally:
        if server.running():
            subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(server.data), "-m", "immediate", "-w", "stop"]),
                           capture_output=True, check=False, cwd=home)
        shutil.rmtree(home, ignore_errors=True)


def _bin(name: str) -> str:
    return f"/usr/lib/postgresql/{server_version()}/bin/{name}"


def _as_owner(argv: Sequence[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else list(argv)


def _run(home: Path, argv: Sequence[str]) -> None:
    done = subprocess.run(_as_owner(argv), capture_output=True, text=True, check=False, cwd=home,
                          env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` failed (exit {done.returncode}): {done.stderr or done.stdout}")
