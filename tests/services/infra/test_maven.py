"""Resolving the broker's jars with Maven (stubbed): the pom, the completion marker, failures that say what to check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from services.infra.exceptions import JarResolutionFailed
from services.infra.maven import LOG4J_VERSION, MARKER, first_error, jars_ready, render_pom, resolve_jars
from tests.services.infra import fakes

NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def test_pom_depends_on_the_broker_and_the_slf4j_1_binding() -> None:
    root = ET.fromstring(render_pom("4.4.0"))
    deps = {(d.findtext("m:groupId", namespaces=NS), d.findtext("m:artifactId", namespaces=NS)):
            d.findtext("m:version", namespaces=NS) for d in root.iterfind("m:dependencies/m:dependency", NS)}
    assert deps == {("org.apache.kafka", "kafka_2.13"): "4.4.0",
                    ("org.apache.logging.log4j", "log4j-slf4j-impl"): LOG4J_VERSION}


def test_resolution_copies_jars_and_marks_the_folder(tmp_path: Path) -> None:
    mvn = fakes.tool(tmp_path / "bin", "mvn", """for arg in "$@"; do
  case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac
done
mkdir -p "$out" && touch "$out/kafka_2.13-4.4.0.jar" "$out/kafka-clients-4.4.0.jar"
echo '[INFO] BUILD SUCCESS'""")
    jars = tmp_path / "cache" / "4.4.0" / "jars"
    assert not jars_ready(jars)
    assert resolve_jars(mvn, jars, "4.4.0") == 2
    assert jars_ready(jars) and (jars / MARKER).is_file()
    assert "kafka_2.13" in (jars.parent / "pom.xml").read_text()


def test_failed_resolution_names_the_cause_and_what_to_check(tmp_path: Path) -> None:
    mvn = fakes.tool(tmp_path / "bin", "mvn", """echo '[INFO] Scanning for projects...'
echo '[ERROR] Failed to execute goal on project kafka-broker-jars: Could not resolve dependencies: \
Connect to repo.maven.apache.org:443 failed: Connection refused -> [Help 1]'
echo '[ERROR] '
echo '[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.'
exit 1""")
    jars = tmp_path / "cache" / "4.4.0" / "jars"
    with pytest.raises(JarResolutionFailed) as caught:
        resolve_jars(mvn, jars, "4.4.0")
    message = str(caught.value)
    assert "exit status 1" in message and "Connection refused" in message
    assert "Maven Central" in message and "settings.xml" in message and str(jars.parent / "maven.log") in message
    assert "\n" not in message
    assert not jars_ready(jars)


def test_a_successful_maven_that_copies_nothing_is_a_failure(tmp_path: Path) -> None:
    mvn = fakes.tool(tmp_path / "bin", "mvn", "echo '[INFO] nothing to do'")
    with pytest.raises(JarResolutionFailed, match="no jars were copied"):
        resolve_jars(mvn, tmp_path / "jars", "4.4.0")


@pytest.mark.parametrize(("log", "line"), [
    ("[INFO] a\n[ERROR] cause\n[ERROR] \n[ERROR] advice\n", "[ERROR] cause"),
    ("\x1b[1;31m[ERROR]\x1b[m coloured cause\n", "[ERROR] coloured cause"),
    ("[INFO] only info\n[INFO] last\n", "[INFO] last"),
    ("", "no output"),
])
def test_first_error(tmp_path: Path, log: str, line: str) -> None:
    path = tmp_path / "maven.log"
    path.write_text(log)
    assert first_error(path) == line
