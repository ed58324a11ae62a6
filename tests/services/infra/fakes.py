"""Stand-ins for the machine's tools: shell scripts named ``java`` or ``mvn`` in a folder put on PATH."""

from __future__ import annotations

import socket
import stat
from pathlib import Path


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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
