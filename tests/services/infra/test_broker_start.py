"""``up`` when something is wrong, with ``java`` and ``mvn`` stubbed on PATH: one clear error, nothing left running."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.infra.broker import PROBLEM, last_error
from services.infra.exceptions import BrokerStartFailed, JarResolutionFailed, JavaNotFound, JavaTooOld, MavenNotFound
from services.infra.kafka import KAFKA_VERSION, KafkaPaths, status, up
from services.infra.maven import MARKER
from services.infra.process import is_alive, read_pid
from services.infra.server_log import problem_line
from tests.services.infra import fakes


@pytest.fixture
def paths(tmp_path: Path) -> KafkaPaths:
    return KafkaPaths.under(tmp_path / "kafka", KAFKA_VERSION)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that is the whole PATH: only the tools a test puts there exist."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def _up(paths: KafkaPaths, timeout_s: float = 10.0) -> None:
    up(paths, fakes.free_port(), fakes.free_port(), 256, timeout_s=timeout_s)


def _cached_jars(paths: KafkaPaths) -> None:
    paths.jars.mkdir(parents=True)
    (paths.jars / MARKER).write_text("test\n")


def _formatted(paths: KafkaPaths) -> None:
    paths.kraft.mkdir(parents=True)
    (paths.kraft / "meta.properties").write_text("version=1\n")


def test_without_java(paths: KafkaPaths, bin_dir: Path) -> None:
    with pytest.raises(JavaNotFound, match="`java` is not on PATH"):
        _up(paths)


def test_with_java_11(paths: KafkaPaths, bin_dir: Path) -> None:
    fakes.java(bin_dir, version="11.0.2")
    with pytest.raises(JavaTooOld, match=r"Java 11\.0\.2"):
        _up(paths)


def test_without_maven_and_jars(paths: KafkaPaths, bin_dir: Path) -> None:
    fakes.java(bin_dir)
    with pytest.raises(MavenNotFound, match="`mvn` is not on PATH"):
        _up(paths)


def test_maven_failure(paths: KafkaPaths, bin_dir: Path) -> None:
    fakes.java(bin_dir)
    fakes.tool(bin_dir, "mvn", "echo '[ERROR] Could not transfer artifact org.apache.kafka:kafka_2.13'; exit 1")
    with pytest.raises(JarResolutionFailed, match=r"Could not transfer artifact.*Maven Central"):
        _up(paths)


def test_format_failure(paths: KafkaPaths, bin_dir: Path) -> None:
    fakes.java(bin_dir, run="echo 'Error: Could not find or load main class kafka.tools.StorageTool' >&2; exit 1")
    _cached_jars(paths)
    with pytest.raises(BrokerStartFailed, match=r"formatting Kafka storage .* failed \(exit status 1\): "
                                                r"Error: Could not find or load main class"):
        _up(paths)


def test_broker_that_exits_during_start_up(paths: KafkaPaths, bin_dir: Path) -> None:
    fakes.java(bin_dir, run="""echo '[2026-01-01 00:00:00,000] ERROR Exiting Kafka due to fatal exception (kafka.Kafka)'
echo 'org.apache.kafka.common.config.ConfigException: Invalid value -1 for configuration node.id'
echo '	at org.apache.kafka.common.config.ConfigDef.parseValue(ConfigDef.java:1)'
exit 1""")
    _cached_jars(paths)
    _formatted(paths)
    with pytest.raises(BrokerStartFailed) as caught:
        _up(paths)
    message = str(caught.value)
    assert "exited during start-up (exit status 1): org.apache.kafka.common.config.ConfigException" in message
    assert str(paths.log) in message
    assert not paths.pid.exists() and not status(paths).running


def test_broker_that_never_answers_is_stopped_again(paths: KafkaPaths, bin_dir: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "fake-broker.pid"
    fakes.java(bin_dir, run=f"echo $$ > {pid_file}; exec /bin/sleep 60")
    _cached_jars(paths)
    _formatted(paths)
    with pytest.raises(BrokerStartFailed, match=r"did not answer on 127\.0\.0\.1:\d+ within 1 s, so it was stopped "
                                                r"again; last error in .*broker\.log: no error logged"):
        _up(paths, timeout_s=1)
    pid = read_pid(pid_file)
    assert pid is not None and not is_alive(pid)
    assert not paths.pid.exists()


@pytest.mark.parametrize(("lines", "line"), [
    (["[x] WARN slow", "[x] ERROR Exiting Kafka (kafka.Kafka)", "java.net.BindException: Address already in use",
      "\tat sun.nio.ch.Net.bind(Net.java:1)"], "java.net.BindException: Address already in use"),
    (["[x] WARN slow", "[x] INFO started"], None),
    (["Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space"],
     "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space"),
])
def test_problem_line(lines: list[str], line: str | None) -> None:
    assert problem_line(lines, PROBLEM) == line


def test_last_error_reads_only_the_latest_start(tmp_path: Path) -> None:
    log = tmp_path / "broker.log"
    log.write_text("=== shadowqa: starting Kafka 4.4.0 at t0 ===\nERROR old\n"
                   "=== shadowqa: starting Kafka 4.4.0 at t1 ===\n[x] WARN fine\n")
    assert last_error(log) == "no error logged"
    assert last_error(tmp_path / "missing.log") == "no log written"
