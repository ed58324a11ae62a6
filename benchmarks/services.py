"""What several benchmarks need from the services they run: a scratch database, a worker's metric."""

from __future__ import annotations

import contextlib
import urllib.request
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text

from services.db.engine import upgrade


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, migrated database on the server of ``server_url``, dropped afterwards."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"shadowqa_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                                    "AND pid <> pg_backend_pid() AND usename = current_user"), {"name": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def worker_metric(port: int, name: str) -> float:
    """The sum of ``name``'s samples on a worker's Prometheus endpoint (-1 when it does not answer)."""
    try:
        exposition = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return -1
    return sum(float(line.rsplit(" ", 1)[1]) for line in exposition.splitlines()
               if line.startswith(name + "{") or line.startswith(name + " "))
