"""Java and Maven found on PATH (stubbed here with scripts), and clear errors when they are missing or old."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.infra.exceptions import JavaNotFound, JavaTooOld, MavenNotFound
from services.infra.toolchain import find_java, find_maven, java_major
from tests.services.infra import fakes


@pytest.mark.parametrize(("version", "major"), [
    ("17.0.15", 17),
    ("21", 21),
    ("21-ea", 21),
    ("11.0.2", 11),
    ("1.8.0_392", 8),
    ("17.0.2+8", 17),
])
def test_java_major(version: str, major: int) -> None:
    assert java_major(version) == major


def test_missing_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaNotFound, match=r"Java 17 or newer .* `java` is not on PATH; install"):
        find_java()


def test_old_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fakes.java(tmp_path, version="11.0.2")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(JavaTooOld, match=r"needs Java 17 or newer, but .*java is Java 11\.0\.2"):
        find_java()


def test_java_that_reports_no_version(tmp_path: Path) -> None:
    fakes.tool(tmp_path, "java", "echo 'segmentation fault' >&2; exit 139")
    with pytest.raises(JavaNotFound, match="did not report a version"):
        find_java(search_path=str(tmp_path))


def test_java_17_is_found(tmp_path: Path) -> None:
    java = fakes.java(tmp_path, version="17.0.15")
    found = find_java(search_path=str(tmp_path))
    assert (found.path, found.major, found.version) == (java, 17, "17.0.15")


def test_missing_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MavenNotFound, match=r"`mvn` is not on PATH .* install Maven"):
        find_maven()
