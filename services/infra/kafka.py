"""The project's own Kafka broker: ``up`` (resolve jars, format, start, wait), ``down`` and ``status``.

A single-node KRaft Apache Kafka on 127.0.0.1 from Maven Central's jars, run with the machine's
Java, detached from the caller; files under ``.cache/kafka`` (see :class:`KafkaPaths`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.infra import broker
from services.infra.broker_config import BrokerConfig, advertised_bootstrap
from services.infra.client import refuse_busy_port
from services.infra.exceptions import BrokerConflict, BrokerStartFailed, InfraError
from services.infra.maven import jars_ready, resolve_jars
from services.infra.paths import KafkaPaths, project_cache
from services.infra.process import exclusive
from services.infra.toolchain import Java, find_java, find_maven

# One pinned version: the newest Kafka that both clients work with — kafka-python 3.0.12 (admin,
# produce, consume with groups) and aiokafka 0.14.0, which faust-streaming 0.15.3 uses (produce,
# consume with groups, transactions); tests/integration checks both against it. Kafka 4 removed old
# protocol versions (KIP-896) and aiokafka still sends old ones (e.g. Metadata v5, EndTxn v0), so a
# broker upgrade must be re-checked with the clients first.
KAFKA_VERSION = "4.4.0"
START_TIMEOUT_S = 120.0  # until the group coordinator answers for every partition: a fresh broker took 9 s here
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class BrokerStatus:
    """Whether our broker runs, and where."""

    running: bool
    pid: int | None
    bootstrap: str | None
    version: str | None
    log: Path


@dataclass(frozen=True)
class UpResult:
    """What ``up`` did: started the broker (or found it running), resolved jars, formatted storage."""

    started: bool
    status: BrokerStatus
    seconds: float
    jars_resolved: int | None = None
    formatted: bool = False


def default_home() -> Path:
    """``.cache/kafka`` in the source checkout shadowqa runs from, else in the working directory."""
    return project_cache("kafka")


def default_paths() -> KafkaPaths:
    """The broker's files under :func:`default_home` for the pinned Kafka version."""
    return KafkaPaths.under(default_home(), KAFKA_VERSION)


def status(paths: KafkaPaths) -> BrokerStatus:
    """Our broker's state from its pid file, command line and ``server.properties``."""
    pid = broker.running_pid(paths)
    if pid is None:
        return BrokerStatus(running=False, pid=None, bootstrap=None, version=None, log=paths.log)
    return BrokerStatus(running=True, pid=pid, bootstrap=_configured_bootstrap(paths),
                        version=broker.running_version(pid) or KAFKA_VERSION, log=paths.log)


def up(paths: KafkaPaths, port: int, controller_port: int, heap_mb: int, *, timeout_s: float = START_TIMEOUT_S,
       say: Callable[[str], None] = lambda _: None) -> UpResult:
    """Start our broker unless it runs already; return once it answers metadata requests.

    ``say`` receives progress lines for the slow steps (the first Maven resolution, formatting).
    """
    begin = time.monotonic()
    config = BrokerConfig(port=port, controller_port=controller_port, log_dirs=paths.kraft)
    with exclusive(paths.lock):
        current = status(paths)
        if current.running:
            _check_same_address(current, config)
            return UpResult(started=False, status=current, seconds=time.monotonic() - begin)
        paths.pid.unlink(missing_ok=True)
        _check_ports(config)
        java = find_java()
        resolved = None
        if not jars_ready(paths.jars):
            say(f"resolving Kafka {KAFKA_VERSION}'s jars from Maven Central into {paths.jars} (first run only)")
            resolved = resolve_jars(find_maven(), paths.jars, KAFKA_VERSION)
        broker.write_config(paths, config)
        formatted = broker.ensure_storage(paths, java)
        if formatted:
            say(f"formatted KRaft storage in {paths.kraft} (cluster id {broker.cluster_id(paths)})")
        _start(paths, java, config, heap_mb, timeout_s)
        return UpResult(started=True, status=status(paths), seconds=time.monotonic() - begin,
                        jars_resolved=resolved, formatted=formatted)


def down(paths: KafkaPaths, *, timeout_s: float = STOP_TIMEOUT_S) -> BrokerStatus | None:
    """Stop our broker if it runs (SIGTERM, then SIGKILL after ``timeout_s``); its status before, or None."""
    with exclusive(paths.lock):
        current = status(paths)
        if current.running and current.pid is not None:
            broker.stop(current.pid, timeout_s)
        paths.pid.unlink(missing_ok=True)
        return current if current.running else None


def _start(paths: KafkaPaths, java: Java, config: BrokerConfig, heap_mb: int, timeout_s: float) -> None:
    """Launch and wait; a broker that does not come up is stopped again, so the next ``up`` starts afresh."""
    process = broker.launch(paths, java, heap_mb, KAFKA_VERSION)
    try:
        broker.wait_ready(process, config.bootstrap, paths.log, timeout_s)
    except BrokerStartFailed:
        broker.stop(process.pid, STOP_TIMEOUT_S)
        paths.pid.unlink(missing_ok=True)
        raise


def _check_ports(config: BrokerConfig) -> None:
    if config.port == config.controller_port:
        raise InfraError(f"the broker and controller ports must differ (both are {config.port}); "
                         "set SHADOWQA_KAFKA_PORT or SHADOWQA_KAFKA_CONTROLLER_PORT")
    for name, port, variable in (("client", config.port, "SHADOWQA_KAFKA_PORT"),
                                 ("controller", config.controller_port, "SHADOWQA_KAFKA_CONTROLLER_PORT")):
        refuse_busy_port(config.host, port, server="broker", role=f"the broker's {name} port", remedy=variable)


def _check_same_address(current: BrokerStatus, config: BrokerConfig) -> None:
    if current.bootstrap is not None and current.bootstrap != config.bootstrap:
        raise BrokerConflict(f"shadowqa's broker already runs on {current.bootstrap} (pid {current.pid}), not on "
                             f"{config.bootstrap}; run `shadowqa infra kafka down` first to move it")


def _configured_bootstrap(paths: KafkaPaths) -> str | None:
    try:
        return advertised_bootstrap(paths.server_properties.read_text(encoding="utf-8"))
    except OSError:
        return None


__all__ = ["KAFKA_VERSION", "BrokerStatus", "KafkaPaths", "UpResult", "default_home", "default_paths",
           "down", "status", "up"]
