"""Reaching a broker: plain TCP checks and kafka-python's admin client, with failures as one-line errors."""

from __future__ import annotations

import contextlib
import errno
import functools
import socket
import struct
from collections.abc import Iterator
from typing import Any

from kafka.admin import KafkaAdminClient  # type: ignore[import-untyped, unused-ignore]
from kafka.errors import KafkaError  # type: ignore[import-untyped, unused-ignore]

from services.infra.exceptions import BrokerUnreachable, PortInUse

CONNECT_TIMEOUT_S = 0.5
CLIENT_ID = "shadowqa-infra"
READY_PROBE_GROUP = "shadowqa-ready-probe"
API_VERSIONS, PROBE_ID = 18, 0x51A7  # Kafka's ApiVersions request key; the probe's correlation id


def addresses(bootstrap: str) -> list[tuple[str, int]]:
    """``"h1:9092,h2:9093"`` → ``[("h1", 9092), ("h2", 9093)]`` (port 9092 when none is given)."""
    result = []
    for item in bootstrap.split(","):
        host, _, port = item.strip().rpartition(":")
        result.append((host, int(port)) if host and port.isdigit() else (item.strip(), 9092))
    return result


def accepts_connections(host: str, port: int, timeout_s: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether something listens on ``host:port`` (a TCP connection succeeds)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def answers_requests(bootstrap: str, timeout_s: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether a Kafka broker of ``bootstrap`` processes requests: one answers an ApiVersions request (v0, which
    every broker takes) without error.

    Spoken on a plain socket rather than through a client library, so the check itself logs nothing (kafka-python
    logs every failed attempt): workers wait out an outage with it (streams/quiet_logs.py, streams/lag.py).
    """
    return any(_answers_api_versions(host, port, timeout_s) for host, port in addresses(bootstrap))


def _answers_api_versions(host: str, port: int, timeout_s: float) -> bool:
    client = CLIENT_ID.encode()
    request = struct.pack(">hhih", API_VERSIONS, 0, PROBE_ID, len(client)) + client
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            _size, correlation, error = struct.unpack(">iih", _receive(sock, 10))
    except OSError:
        return False
    return bool(correlation == PROBE_ID and error == 0)


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("the broker closed the connection")
        data += chunk
    return data


def port_in_use(host: str, port: int) -> bool:
    """Whether another process holds ``host:port``: it accepts connections, or the address cannot be bound.

    The bind uses SO_REUSEADDR as servers do, so connections lingering in TIME_WAIT after our
    own broker stopped do not count.
    """
    if accepts_connections(host, port):
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def refuse_busy_port(host: str, port: int, *, server: str, remedy: str, role: str = "",
                     error: type[PortInUse] = PortInUse) -> None:
    """Raise ``error`` when another process holds ``host:port`` (:func:`port_in_use`), which shadowqa's ``server``
    needs (as its ``role``, e.g. "the broker's client port"); the message ends with ``remedy``: how to choose
    another port."""
    if port_in_use(host, port):
        holder = f" ({role})" if role else ""
        raise error(f"port {port} on {host}{holder} is in use by a process that is not shadowqa's {server}; stop "
                    f"that process or choose another port with {remedy}")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def admin_client(bootstrap: str, timeout_s: float = 10.0) -> Iterator[Any]:
    """A connected ``KafkaAdminClient`` (untyped library, hence ``Any``), closed afterwards.

    Fails fast with :class:`BrokerUnreachable` when nothing listens, instead of kafka-python's
    retries and timeouts.
    """
    if not any(accepts_connections(host, port) for host, port in addresses(bootstrap)):
        raise BrokerUnreachable(f"no Kafka broker listens at {bootstrap}; start the project's broker with "
                                "`shadowqa infra kafka up` (or `make kafka-up`), or set SHADOWQA_KAFKA_BOOTSTRAP")
    milliseconds = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=CLIENT_ID, bootstrap_timeout_ms=milliseconds,
                                 request_timeout_ms=milliseconds)
    except KafkaError as exc:
        raise BrokerUnreachable(f"the Kafka broker at {bootstrap} accepts connections but does not answer "
                                f"metadata requests ({type(exc).__name__}: {exc})") from exc
    try:
        yield admin
    finally:
        admin.close()


def broker_ready(bootstrap: str, timeout_s: float = 5.0, *, coordinator_partitions: int = 0) -> bool:
    """Whether the broker answers a metadata request listing at least one live (unfenced) broker and, given
    ``coordinator_partitions`` (the partition count of ``__consumer_offsets``), whether its group coordinator answers
    for every one of them, asked on the same client.

    A new broker answers metadata requests before it has created and loaded that topic (the first FindCoordinator
    starts it), and each partition loads on its own: until then a group operation fails with
    COORDINATOR_NOT_AVAILABLE or NOT_COORDINATOR (seen: the first test to commit a group's offsets on a fresh broker
    failed so). One probe group per partition asks for its offsets (a group nobody uses: none)."""
    try:
        with admin_client(bootstrap, timeout_s) as admin:
            if all(broker.get("is_fenced", False) for broker in admin.describe_cluster().get("brokers", [])):
                return False  # no broker, or only fenced ones
            for group in probe_groups(coordinator_partitions):  # none for 0
                admin.list_group_offsets(group)
    except (BrokerUnreachable, KafkaError, OSError):
        return False
    return True


@functools.cache
def probe_groups(partitions: int) -> tuple[str, ...]:
    """A group id for each partition of ``__consumer_offsets`` (Kafka's: ``(groupId.hashCode() & 0x7fffffff) %
    partitions``, Java's String.hashCode)."""
    found: dict[int, str] = {}
    k = 0
    while len(found) < partitions:
        group = f"{READY_PROBE_GROUP}-{k}"
        found.setdefault((_java_hash(group) & 0x7FFFFFFF) % partitions, group)
        k += 1
    return tuple(found[p] for p in range(partitions))


def _java_hash(text: str) -> int:
    h = 0
    for ch in text:  # ASCII: one UTF-16 unit per character
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h
