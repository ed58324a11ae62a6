"""Label Studio's pure parts: its environment and command line, stamps, credentials, log reading, install errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from services.api.state import ApiConfig
from services.infra.exceptions import LabelStudioInstallFailed
from services.infra.labelstudio import DEFAULT_LOCK_TTL_S
from services.infra.labelstudio_credentials import DEFAULT_USERNAME, Credentials, load_credentials, read_token
from services.infra.labelstudio_paths import LabelStudioPaths
from services.infra.labelstudio_server import START_HEADER, log_tail, server_command, server_environment, serving_port
from services.infra.labelstudio_template import template_ready, template_stamp_text
from services.infra.labelstudio_venv import (
    LABEL_STUDIO_VERSION,
    ensure_venv,
    installed_version,
    kept_environment,
    needs_install,
    stamp_text,
    venv_ready,
)
from tests.services.infra import fakes

CREDENTIALS = Credentials(username="admin@example.org", password="pw-123456", token="ab" * 20)


@pytest.fixture
def paths(tmp_path: Path) -> LabelStudioPaths:
    return LabelStudioPaths.under(tmp_path / "labelstudio")


@pytest.mark.parametrize(("name", "value"), [
    ("LABEL_STUDIO_BASE_DATA_DIR", "/data/ls"),
    ("DJANGO_DB", "sqlite"),
    ("LABEL_STUDIO_USERNAME", "admin@example.org"),
    ("LABEL_STUDIO_PASSWORD", "pw-123456"),
    ("LABEL_STUDIO_USER_TOKEN", "ab" * 20),
    ("LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN", "true"),
    ("SENTRY_DSN", ""),
    ("FRONTEND_SENTRY_DSN", ""),
    ("LATEST_VERSION_CHECK", "false"),
    ("COLLECT_ANALYTICS", "false"),
    ("SSRF_PROTECTION_ENABLED", "false"),
    ("PYTHONUNBUFFERED", "1"),
    ("TASK_LOCK_TTL", "45"),
    ("PATH", "/usr/bin"),
])
def test_server_environment(name: str, value: str) -> None:
    env = server_environment({"PATH": "/usr/bin"}, Path("/data/ls"), CREDENTIALS, lock_ttl_s=45)
    assert env[name] == value


def test_the_default_task_lock_lasts_as_long_as_shadowqas_default_lease() -> None:
    """A task an annotator left is unlocked in Label Studio when shadowqa's lease of it ends, not a day later."""
    assert ApiConfig().lease_s == DEFAULT_LOCK_TTL_S


def test_only_harmless_variables_are_inherited() -> None:
    """Label Studio reads bare HOST, PORT, DEBUG, USERNAME as settings too; shadowqa's PYTHONPATH is not for it."""
    caller = {"PATH": "/usr/bin", "HOME": "/root", "PIP_INDEX_URL": "https://pypi.example/simple",
              "PYTHONPATH": "/work/main", "VIRTUAL_ENV": "/work/main/.venv", "HOST": "box", "PORT": "1",
              "DEBUG": "1", "USERNAME": "me", "LABEL_STUDIO_HOST": "x", "HEARTEX_PASSWORD": "y", "DJANGO_DB": "mysql"}
    assert kept_environment(caller) == {"PATH": "/usr/bin", "HOME": "/root",
                                        "PIP_INDEX_URL": "https://pypi.example/simple"}


def test_server_command_starts_headless_on_loopback() -> None:
    assert server_command(Path("/v/bin/label-studio"), 8123, Path("/d")) == [
        "/v/bin/label-studio", "start", "--no-browser", "--internal-host", "127.0.0.1", "-p", "8123",
        "--data-dir", "/d"]


@pytest.mark.parametrize(("stamp", "version", "expected"), [
    (None, "1.23.2", True),
    ("label-studio==1.23.2\n", "1.23.2", False),
    ("label-studio==1.23.2", "1.23.2", False),
    ("label-studio==1.22.0\n", "1.23.2", True),
    ("", "1.23.2", True),
])
def test_needs_install(stamp: str | None, version: str, expected: bool) -> None:
    assert needs_install(stamp, version) is expected


def test_venv_ready_needs_stamp_and_executable(paths: LabelStudioPaths) -> None:
    assert not venv_ready(paths)
    paths.executable.parent.mkdir(parents=True)
    paths.install_stamp.write_text(stamp_text(LABEL_STUDIO_VERSION))
    assert not venv_ready(paths)
    paths.executable.write_text("#!/bin/sh\n")
    assert venv_ready(paths)
    assert not venv_ready(paths, "9.9.9")


def test_installed_version_reads_the_metadata(paths: LabelStudioPaths) -> None:
    assert installed_version(paths) is None
    info = paths.venv / "lib" / "python3.11" / "site-packages" / "label_studio-9.8.7.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: label-studio\nVersion: 9.8.7\n")
    assert installed_version(paths) == "9.8.7"


def test_template_ready_needs_version_credentials_and_database(paths: LabelStudioPaths) -> None:
    paths.template.mkdir(parents=True)
    paths.template_stamp.write_text(template_stamp_text("1.23.2", CREDENTIALS))
    assert not template_ready(paths, "1.23.2", CREDENTIALS)  # no database yet
    (paths.template / "label_studio.sqlite3").write_bytes(b"")
    assert template_ready(paths, "1.23.2", CREDENTIALS)
    assert not template_ready(paths, "1.24.0", CREDENTIALS)
    other = Credentials(username=CREDENTIALS.username, password=CREDENTIALS.password, token="cd" * 20)
    assert not template_ready(paths, "1.23.2", other)


def test_credentials_are_generated_once_and_private(paths: LabelStudioPaths) -> None:
    first = load_credentials(paths)
    assert first == load_credentials(paths)
    assert first.username == DEFAULT_USERNAME and len(first.password) >= 20
    assert len(first.token) == 40 and int(first.token, 16) >= 0
    assert read_token(paths) == first.token
    assert stat.S_IMODE(paths.secrets.stat().st_mode) == 0o700
    assert {stat.S_IMODE(f.stat().st_mode) for f in (paths.password_file, paths.token_file)} == {0o600}
    assert first.password not in repr(first) and first.token not in repr(first)


def test_no_token_before_one_was_generated(paths: LabelStudioPaths) -> None:
    assert read_token(paths) is None


@pytest.mark.parametrize(("log", "port"), [
    ("Starting development server at http://127.0.0.1:8080/\nQuit the server with CONTROL-C.\n", 8080),
    ("\n*** WARNING! ***\n* Port 8080 is in use.\n* Trying to start at 8081\n"
     "Starting development server at http://127.0.0.1:8081/\n", 8081),
    ("Initializing database..\n", None),
])
def test_serving_port(log: str, port: int | None) -> None:
    assert serving_port(log) == port


@pytest.mark.parametrize(("body", "expected"), [
    ("Traceback (most recent call last):\n  File \"x.py\", line 1\n"
     "django.db.utils.OperationalError: unable to open database file\n",
     "django.db.utils.OperationalError: unable to open database file"),
    ("Initializing database..\nNormalized 0/0 LocalFilesImportStorage paths\n",
     "Normalized 0/0 LocalFilesImportStorage paths"),
    ("", "nothing logged"),
])
def test_log_tail_quotes_the_latest_start(tmp_path: Path, body: str, expected: str) -> None:
    log = tmp_path / "server.log"
    log.write_text(f"{START_HEADER} 1 ===\nValueError: an older start's\n{START_HEADER} 2 ===\n{body}")
    assert log_tail(log) == expected


def test_install_without_python3(paths: LabelStudioPaths, tmp_path: Path) -> None:
    with pytest.raises(LabelStudioInstallFailed, match=r"^no python3 on PATH to create Label Studio's virtualenv"):
        ensure_venv(paths, {"PATH": str(tmp_path / "empty")})
    assert not paths.venv.exists()


def test_install_with_an_old_python3(paths: LabelStudioPaths, tmp_path: Path) -> None:
    fakes.tool(tmp_path / "bin", "python3", "echo 3 9")
    with pytest.raises(LabelStudioInstallFailed, match=r"python3 is Python 3\.9; Label Studio .* needs 3\.10 or newer"):
        ensure_venv(paths, {"PATH": str(tmp_path / "bin")})


def test_failed_venv_is_one_line_naming_the_log(paths: LabelStudioPaths, tmp_path: Path) -> None:
    fakes.tool(tmp_path / "bin", "python3", """case "$1" in
  -c) echo 3 11 ;;
  *) echo 'Error: Command ensurepip returned non-zero exit status 1.'; exit 1 ;;
esac""")
    with pytest.raises(LabelStudioInstallFailed) as caught:
        ensure_venv(paths, {"PATH": str(tmp_path / "bin")})
    message = str(caught.value)
    assert "\n" not in message and "exit status 1" in message
    assert "Error: Command ensurepip returned non-zero exit status 1." in message
    assert message.endswith(f"full output: {paths.install_log}")
    assert not paths.install_stamp.exists()
