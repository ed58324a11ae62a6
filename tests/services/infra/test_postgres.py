"""``shadowqa infra postgres``: idempotent ``up`` on the running cluster (``make test`` starts it), the URL on
standard output alone, the started-file contract, and one-line errors when the server or root is missing.

``up`` and ``down`` of a stopped cluster are not run here: the other tests use the running server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.cli.main import main
from services.infra import postgres


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["infra", "postgres", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_up_on_the_running_cluster_prints_only_its_url_and_removes_the_started_file(
    postgres_server: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    started = tmp_path / "started"
    started.write_text("left over from a run that started it\n")
    code, out, err = _run(capsys, "up", "--started-file", str(started))
    port = postgres.status().port
    assert (code, out) == (0, f"postgresql+psycopg://shadowqa:shadowqa@127.0.0.1:{port}/shadowqa\n")
    assert err.startswith("shadowqa: already running: PostgreSQL ") and not started.exists()
    assert postgres_server.url.port == port  # the suite's server is this cluster


def test_status_of_the_running_cluster(postgres_server: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "status")
    assert code == 0 and out.startswith("running  version ") and "url postgresql+psycopg://shadowqa:" in out


def test_without_the_server_package_up_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(postgres, "SERVER_GLOB", "/nonexistent/postgresql/*/bin/postgres")
    code, out, err = _run(capsys, "up")
    assert (code, out) == (2, "")
    assert err == ("shadowqa: error: the PostgreSQL server is not installed (no /nonexistent/postgresql/*/bin/postgres)"
                   "; run `scripts/system-packages.sh 'postgresql:/usr/lib/postgresql/*/bin/postgres'` as root (or "
                   "`make system`)\n")
    assert _run(capsys, "status")[:2] == (3, "stopped  (start it with `shadowqa infra postgres up`)\n")


def test_up_without_root_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(postgres.os, "geteuid", lambda: 1000)
    code, _, err = _run(capsys, "up")
    assert code == 2 and err.startswith("shadowqa: error: starting shadowqa's PostgreSQL cluster uses Debian's ")
    assert err.count("\n") == 1


def test_urls_name_the_role_port_and_database() -> None:
    assert postgres.database_url(6543, "x") == "postgresql+psycopg://shadowqa:shadowqa@127.0.0.1:6543/x"
