"""The machine's Java and Maven: found on PATH and checked before the broker needs them."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from services.infra.exceptions import JavaNotFound, JavaTooOld, MavenNotFound

MIN_JAVA = 17  # Kafka 4.x brokers require Java 17 or newer
_JAVA_HINT = "install a JDK or JRE >= 17 (Debian: apt-get install openjdk-17-jre-headless) and put its bin/ on PATH"
_VERSION = re.compile(r'version "([^"]+)"')


@dataclass(frozen=True)
class Java:
    """A Java runtime: its launcher and its major version (17 for ``17.0.15``)."""

    path: Path
    major: int
    version: str


def java_major(version: str) -> int:
    """The major version of a ``java -version`` string: ``1.8.0_392`` → 8, ``17.0.15`` → 17, ``21-ea`` → 21."""
    parts = re.split(r"[._+-]", version)
    digits = [p for p in parts if p.isdigit()]
    if not digits:
        raise ValueError(f"not a Java version: {version!r}")
    first = int(digits[0])
    return int(digits[1]) if first == 1 and len(digits) > 1 else first


def find_java(search_path: str | None = None) -> Java:
    """The ``java`` on ``search_path`` (default: PATH), checked to be at least Java 17."""
    found = shutil.which("java", path=search_path)
    if found is None:
        raise JavaNotFound(f"Java {MIN_JAVA} or newer is needed to run the Kafka broker, but `java` is not on PATH; "
                           f"{_JAVA_HINT}")
    version = _java_version(Path(found))
    major = java_major(version)
    if major < MIN_JAVA:
        raise JavaTooOld(f"Kafka needs Java {MIN_JAVA} or newer, but {found} is Java {version}; {_JAVA_HINT}")
    return Java(Path(found), major, version)


def find_maven(search_path: str | None = None) -> Path:
    """The ``mvn`` on ``search_path`` (default: PATH); needed once, to fetch the broker's jars."""
    found = shutil.which("mvn", path=search_path)
    if found is None:
        raise MavenNotFound("the Kafka broker's jars are not cached yet and `mvn` is not on PATH to fetch them from "
                            "Maven Central; install Maven 3 (Debian: apt-get install maven) and put it on PATH")
    return Path(found)


def _java_version(java: Path) -> str:
    """The quoted version ``java -version`` prints (on stderr), e.g. ``17.0.15``."""
    try:
        done = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JavaNotFound(f"{java} -version failed ({exc}); {_JAVA_HINT}") from exc
    match = _VERSION.search(done.stderr + done.stdout)
    if done.returncode != 0 or match is None:
        first = (done.stderr or done.stdout).strip().splitlines()[:1]
        raise JavaNotFound(f"{java} -version did not report a version ({first[0] if first else 'no output'}); "
                           f"{_JAVA_HINT}")
    return match.group(1)
