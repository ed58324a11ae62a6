"""Where the local servers' files live: :func:`project_cache`, and the broker's jars, storage, configuration, log
and pid file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def project_cache(name: str) -> Path:
    """``.cache/<name>`` in the source checkout shadowqa runs from, else in the working directory."""
    root = Path(__file__).resolve().parents[2]
    return (root if (root / "pyproject.toml").is_file() else Path.cwd()) / ".cache" / name


@dataclass(frozen=True)
class KafkaPaths:
    """The broker's files: a classpath per Kafka version (``jars``) and one data folder (``data``).

    Tests point ``data`` elsewhere to run a second broker (or provoke errors) without
    resolving the jars again.
    """

    jars: Path
    data: Path

    @classmethod
    def under(cls, home: Path, version: str) -> KafkaPaths:
        """``home/<version>/jars`` and ``home/data``, e.g. under the project's ``.cache/kafka``."""
        return cls(jars=home / version / "jars", data=home / "data")

    @property
    def kraft(self) -> Path:
        """KRaft storage (``log.dirs``): metadata log and topic partitions; formatted once."""
        return self.data / "kraft"

    @property
    def cluster_id(self) -> Path:
        return self.data / "cluster-id"

    @property
    def server_properties(self) -> Path:
        return self.data / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.data / "log4j2.properties"

    @property
    def log(self) -> Path:
        """The broker's stdout and stderr (its log4j output is on stdout)."""
        return self.data / "broker.log"

    @property
    def pid(self) -> Path:
        return self.data / "broker.pid"

    @property
    def lock(self) -> Path:
        """Held while ``up`` or ``down`` runs, so two of them never race."""
        return self.data / "broker.lock"
