"""The broker process: its files, the one-time storage format, launch, readiness and stop."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from services.infra.broker_config import (
    OFFSETS_PARTITIONS,
    BrokerConfig,
    log4j2_properties,
    new_cluster_id,
    server_properties,
)
from services.infra.client import accepts_connections, addresses, broker_ready
from services.infra.exceptions import BrokerStartFailed
from services.infra.paths import KafkaPaths
from services.infra.process import command_line, recorded_pid, start_logged, terminate, write_pid
from services.infra.server_log import latest_output, problem_line
from services.infra.toolchain import Java

# Kafka's own start scripts use G1 with short pauses; exit rather than limp on after running out of heap.
JVM_FLAGS = ("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true")
VERSION_PROPERTY = "shadowqa.kafka.version"  # on the command line, so `status` can tell what runs
FORMAT_TIMEOUT_S = 120.0
READY_POLL_S = 0.2
START_HEADER = "=== shadowqa: starting Kafka"
PROBLEM = re.compile(r"\b(ERROR|FATAL)\b|Exception\b|Error\b")  # a log line saying what went wrong


def running_pid(paths: KafkaPaths) -> int | None:
    """The pid of our broker if it runs: the pid file's process, alive and started with our configuration."""
    return recorded_pid(paths.pid, lambda argv: str(paths.server_properties) in argv)


def running_version(pid: int) -> str | None:
    """The Kafka version a broker we started runs (from its command line), if it can be read."""
    prefix = f"-D{VERSION_PROPERTY}="
    for arg in command_line(pid) or []:
        if arg.startswith(prefix):
            return arg[len(prefix):]
    return None


def write_config(paths: KafkaPaths, config: BrokerConfig) -> None:
    """Write ``server.properties`` and the log4j configuration for this start (ports may have changed)."""
    paths.data.mkdir(parents=True, exist_ok=True)
    paths.server_properties.write_text(server_properties(config), encoding="utf-8")
    paths.log4j.write_text(log4j2_properties(), encoding="utf-8")


def ensure_storage(paths: KafkaPaths, java: Java) -> bool:
    """Format KRaft storage unless it is formatted already; whether it formatted now.

    The cluster id is kept in a file, so a storage folder wiped by hand is formatted with the same id.
    """
    if (paths.kraft / "meta.properties").is_file():
        return False
    argv = [str(java.path), f"-Dlog4j2.configurationFile={paths.log4j}", "-cp", classpath(paths.jars),
            "kafka.tools.StorageTool", "format", "--cluster-id", cluster_id(paths),
            "--config", str(paths.server_properties), "--standalone"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=FORMAT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BrokerStartFailed(f"formatting Kafka storage in {paths.kraft} took over {FORMAT_TIMEOUT_S:g} s") from exc
    if done.returncode != 0:
        output = (done.stderr + done.stdout).strip().splitlines()
        raise BrokerStartFailed(f"formatting Kafka storage in {paths.kraft} failed (exit status {done.returncode}): "
                                f"{problem_line(output, PROBLEM) or 'no output'}")
    return True


def cluster_id(paths: KafkaPaths) -> str:
    """The cluster id kept in the data folder, created on first use."""
    if paths.cluster_id.is_file():
        return paths.cluster_id.read_text(encoding="ascii").strip()
    paths.data.mkdir(parents=True, exist_ok=True)
    value = new_cluster_id()
    paths.cluster_id.write_text(f"{value}\n", encoding="ascii")
    return value


def classpath(jars: Path) -> str:
    """Every jar in ``jars`` (Java expands the wildcard itself)."""
    return f"{jars}/*"


def java_command(paths: KafkaPaths, java: Java, heap_mb: int, version: str) -> list[str]:
    """The command line of the broker (``kafka.Kafka`` with our ``server.properties``)."""
    return [str(java.path), f"-Xmx{heap_mb}m", *JVM_FLAGS, f"-Dlog4j2.configurationFile={paths.log4j}",
            f"-D{VERSION_PROPERTY}={version}", "-cp", classpath(paths.jars), "kafka.Kafka",
            str(paths.server_properties)]


def launch(paths: KafkaPaths, java: Java, heap_mb: int, version: str) -> subprocess.Popen[bytes]:
    """Start the broker detached, its output in a fresh log (the previous one kept as ``broker.log.1``)."""
    process = start_logged(java_command(paths, java, heap_mb, version), paths.log, paths.data,
                           f"{START_HEADER} {version}")
    write_pid(paths.pid, process.pid)
    return process


def wait_ready(process: subprocess.Popen[bytes], bootstrap: str, log: Path, timeout_s: float) -> None:
    """Return once the broker accepts connections, answers a metadata request and its group coordinator answers
    (so consumer groups work at once); raise if it exits or times out."""
    host, port = addresses(bootstrap)[0]
    deadline = time.monotonic() + timeout_s
    while True:
        code = process.poll()
        if code is not None:
            raise BrokerStartFailed(f"the Kafka broker exited during start-up (exit status {code}): "
                                    f"{last_error(log)}; full log: {log}")
        if accepts_connections(host, port) and broker_ready(bootstrap, coordinator_partitions=OFFSETS_PARTITIONS):
            return
        if time.monotonic() >= deadline:
            raise BrokerStartFailed(f"the Kafka broker did not answer on {bootstrap} within {timeout_s:g} s, so it "
                                    f"was stopped again; last error in {log}: {last_error(log)}")
        time.sleep(READY_POLL_S)


def stop(pid: int, timeout_s: float) -> bool:
    """Stop the broker (SIGTERM, SIGKILL after ``timeout_s``); True if it had to be killed."""
    return terminate(pid, timeout_s)


def last_error(log: Path) -> str:
    """The last error or exception line the latest start wrote to ``log``, for one-line failure messages."""
    text = latest_output(log, START_HEADER)
    if text is None:
        return "no log written"
    return problem_line(text.splitlines()[1:], PROBLEM) or "no error logged"
