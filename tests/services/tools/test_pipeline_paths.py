"""pipeline run resolves relative paths once, against the caller's working directory, before any process starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.tools.pipeline_run import absolute_database_url


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///runs/shadowqa.sqlite3", "sqlite:///{cwd}/runs/shadowqa.sqlite3"),
    ("sqlite:///../up.sqlite3", "sqlite:///{parent}/up.sqlite3"),
    ("sqlite:////abs/shadowqa.sqlite3", "sqlite:////abs/shadowqa.sqlite3"),
    ("sqlite://", "sqlite://"),
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("postgresql+psycopg://u:p@127.0.0.1:5432/db", "postgresql+psycopg://u:p@127.0.0.1:5432/db"),
], ids=["relative", "parent", "absolute", "memory", "memory-named", "postgres"])
def test_a_relative_sqlite_file_is_taken_from_the_working_directory(url: str, expected: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = tmp_path / "here"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    assert absolute_database_url(url) == expected.format(cwd=cwd.resolve(), parent=tmp_path.resolve())
