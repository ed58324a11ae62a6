"""``shadowqa infra`` exit statuses and one-line errors, without a broker (a scratch ``--home``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli.main import main
from tests.services.infra import fakes


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_up_without_java_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("SHADOWQA_KAFKA_PORT", str(fakes.free_port()))
    monkeypatch.setenv("SHADOWQA_KAFKA_CONTROLLER_PORT", str(fakes.free_port()))
    code, out, err = _run(capsys, "infra", "kafka", "up", "--home", str(tmp_path / "kafka"))
    assert code == 2 and out == ""
    assert err.startswith("shadowqa: error: Java 17 or newer is needed") and err.count("\n") == 1


def test_status_and_down_of_a_broker_never_started(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "kafka")
    assert _run(capsys, "infra", "kafka", "status", "--home", home)[:2] == (
        3, "stopped  (start it with `shadowqa infra kafka up`)\n")
    assert _run(capsys, "infra", "kafka", "down", "--home", home)[:2] == (0, "Kafka broker not running\n")


def test_stale_pid_file_reads_as_stopped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "kafka" / "data"
    data.mkdir(parents=True)
    (data / "broker.pid").write_text("999999999\n")
    assert _run(capsys, "infra", "kafka", "status", "--home", str(tmp_path / "kafka"))[0] == 3
    assert _run(capsys, "infra", "kafka", "down", "--home", str(tmp_path / "kafka"))[0] == 0
    assert not (data / "broker.pid").exists()


def test_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                 tmp_path: Path) -> None:
    monkeypatch.setenv("SHADOWQA_KAFKA_PORT", "ninety")
    code, _, err = _run(capsys, "infra", "kafka", "up", "--home", str(tmp_path))
    assert code == 2 and err.startswith("shadowqa: error: SHADOWQA_KAFKA_PORT: ") and err.count("\n") == 1


def test_topics_create_without_a_broker(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    port = fakes.free_port()
    monkeypatch.setenv("SHADOWQA_KAFKA_BOOTSTRAP", f"127.0.0.1:{port}")
    code, _, err = _run(capsys, "infra", "topics", "create", "--prefix", "x-")
    assert code == 2
    assert err == (f"shadowqa: error: no Kafka broker listens at 127.0.0.1:{port}; start the project's broker with "
                   "`shadowqa infra kafka up` (or `make kafka-up`), or set SHADOWQA_KAFKA_BOOTSTRAP\n")
