"""Stand-ins for the machine's tools (shell scripts named ``java`` or ``mvn`` in a folder put on PATH), ports and a
broker that answers ApiVersions."""

from __future__ import annotations

import contextlib
import socket
import stat
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

from services.infra.client import free_port


def tool(folder: Path, name: str, body: str) -> Path:
    """An executable ``/bin/sh`` script ``folder/name`` running ``body``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def java(folder: Path, version: str = "17.0.15", run: str = "exit 0") -> Path:
    """A ``java`` that reports ``version`` to ``-version`` (on stderr, as the real one does) and else runs ``run``."""
    return tool(folder, "java", f"""if [ "$1" = "-version" ]; then
  echo 'openjdk version "{version}" 2025-04-15' >&2
  echo 'OpenJDK Runtime Environment (build {version}+6)' >&2
  exit 0
fi
{run}""")


@contextlib.contextmanager
def squatter() -> Iterator[int]:
    """A port on 127.0.0.1 that another listener (a socket of this process) holds while the ``with`` block runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@contextlib.contextmanager
def api_versions_broker(error: int = 0, correlation: int | None = None) -> Iterator[int]:
    """A port on 127.0.0.1 where a thread answers each connection's request as a broker answers ApiVersions v0: the
    request's correlation id (or ``correlation``) and ``error``, with no API list."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.05)
        stop = threading.Event()
        thread = threading.Thread(target=_answer_api_versions, args=(server, stop, error, correlation), daemon=True)
        thread.start()
        try:
            yield int(server.getsockname()[1])
        finally:
            stop.set()
            thread.join(timeout=5)


def _answer_api_versions(server: socket.socket, stop: threading.Event, error: int, correlation: int | None) -> None:
    while not stop.is_set():
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        with conn:
            conn.settimeout(1.0)
            (size,) = struct.unpack(">i", conn.recv(4))
            (asked,) = struct.unpack(">i", conn.recv(size)[4:8])  # after the api key and version
            body = struct.pack(">ihi", asked if correlation is None else correlation, error, 0)
            conn.sendall(struct.pack(">i", len(body)) + body)


__all__ = ["api_versions_broker", "free_port", "java", "squatter", "tool"]  # free_port: many tests take it from here
