"""``shadowqa db upgrade|current`` on both backends, and one-line errors that never show the password."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from services.cli.main import main
from services.db.engine import head_revision
from tests.services.infra.fakes import free_port


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str,
         *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("SHADOWQA_DATABASE_URL", url)
    code = main(["db", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_upgrade_step_by_step_and_current(database_url: str, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    shown = make_url(database_url).render_as_string(hide_password=True)
    head = head_revision()
    assert _run(capsys, monkeypatch, database_url, "current") == (
        0, f"{shown}: not migrated (head is {head}: run `shadowqa db upgrade`)\n", "")
    assert _run(capsys, monkeypatch, database_url, "upgrade", "--revision", "0001") == (
        0, f"{shown}: empty -> 0001\n", "")
    assert _run(capsys, monkeypatch, database_url, "upgrade") == (0, f"{shown}: 0001 -> {head}\n", "")
    assert _run(capsys, monkeypatch, database_url, "current") == (0, f"{shown}: {head} (head)\n", "")


@pytest.mark.parametrize(("url", "error"), [
    ("no-such-scheme-with-s3cret", "database URL is not valid (expected sqlite:///PATH, sqlite:// or "
                                   "postgresql+DRIVER://USER@HOST/DB)"),
    ("postgresql+psycopg://shadowqa:s3cret@127.0.0.1:{port}/x", "cannot reach the database at "
     "postgresql+psycopg://shadowqa:***@127.0.0.1:{port}/x: connection failed: connection to server at "
     '"127.0.0.1", port {port} failed: Connection refused'),
], ids=["bad URL", "no server"])
def test_errors_are_one_line_without_the_password(url: str, error: str, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    code, out, err = _run(capsys, monkeypatch, url.format(port=port), "current")
    assert (code, out, err) == (2, "", f"shadowqa: error: {error.format(port=port)}\n")
    assert "s3cret" not in err


def test_an_unknown_revision_is_one_line(database_url: str, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = _run(capsys, monkeypatch, database_url, "upgrade", "--revision", "9999")
    assert code == 2
    assert err.endswith(": Can't locate revision identified by '9999'\n") and err.count("\n") == 1
