"""Every dashboard panel returns data from a real Prometheus scraping a running demo, and the demo works.

One module-scoped run: Debian's Prometheus scrapes the six metrics ports of ``shadowqa pipeline run
--metrics-port BASE`` (automation, router, comparator, aggregator, persist, API) every second while
the command runs as a user would run it; a few malformed frames are sent to the run's frames topic
so the dead-letter panel has something to show. Then each panel query of the committed dashboard
JSON, its variables filled in as Grafana would ("All" strata, a 15 s rate interval), is run over the
run's time range and must return at least one series with a finite value. Without the prometheus
binary or a Kafka broker the tests fail, never skip. The same run is checked as ``make demo`` output:
summary, report, nothing lost between topics, API and database, and nothing left running.
"""

from __future__ import annotations

import json
import math
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboards.queries import (
    TEST_VARIABLES,
    PanelQuery,
    expand,
    label_values_as_promql,
    panel_queries,
    variable_queries,
)
from dashboards.render import JSON_DIR
from services.infra.client import admin_client
from services.infra.prometheus import PrometheusNotFound, PrometheusServer, prometheus_server
from services.infra.topic_names import TopicNames
from services.tools.kafka import KafkaSink

pytestmark = pytest.mark.slow

ROLES = ("automation", "router", "comparator", "aggregator", "persist", "api")  # ports BASE, BASE+1, …
FRAMES = 600  # in windows of 75 machine comparisons: as many recommender steps as 1,200 frames in the default 150
WINDOW = 75
POISON = [b"not json at all", b"[1, 2, 3]", b"\xff\xfe binary"]  # the automation worker dead-letters these
STEP_S = 2.0
MODELS = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(JSON_DIR.glob("*.json"))}
QUERIES = [query for model in MODELS.values() for query in panel_queries(model)]


@dataclass(frozen=True)
class DemoRun:
    prometheus: PrometheusServer
    start: float  # unix time the command was started
    end: float  # unix time it exited
    output: str
    report: Path
    bootstrap: str

    def series(self, expr: str) -> list[list[float]]:
        """Each series' finite values of ``expr`` (variables filled in) over the run."""
        result = self.prometheus.query_range(expand(expr, TEST_VARIABLES), self.start, self.end, STEP_S)
        return [[v for v in (float(value) for _, value in s["values"]) if math.isfinite(v)] for s in result]


@pytest.fixture(scope="module")
def demo(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    assert not _processes_running(), "workers of another run are still alive"
    base = _free_port_block(len(ROLES))
    jobs = {role: [f"127.0.0.1:{base + i}"] for i, role in enumerate(ROLES)}
    try:
        with prometheus_server(jobs) as prometheus:
            prometheus.wait_for_targets(len(ROLES))
            yield _run_demo(prometheus, kafka_bootstrap, base, tmp_path_factory.mktemp("demo"))
    except PrometheusNotFound as exc:
        pytest.fail(f"{exc}; `make test` installs it", pytrace=False)


def _run_demo(prometheus: PrometheusServer, bootstrap: str, base: int, report: Path) -> DemoRun:
    argv = pipeline_command(base, report)
    start = time.time()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    poisoned: list[str | BaseException] = []
    reader = threading.Thread(target=_follow, args=(process, lines, bootstrap, poisoned), daemon=True)
    reader.start()
    process.wait()  # no deadline of its own: `pipeline run` gives up when nothing moves for its stall window
    reader.join(timeout=10)
    end = time.time()
    output = "".join(lines)
    if process.returncode != 0:
        pytest.fail(f"`{' '.join(argv)}` exited with {process.returncode}:\n{_tail(output)}", pytrace=False)
    if not poisoned or isinstance(poisoned[0], BaseException):
        pytest.fail(f"the malformed frames were not sent: {poisoned or 'no topic prefix in the output'}", pytrace=False)
    return DemoRun(prometheus, start, end, output, report, bootstrap)


def pipeline_command(base: int, report: Path) -> list[str]:
    """The demo as a user runs it, its metrics on ports ``base`` … ``base + 5``."""
    shadowqa = Path(sys.executable).with_name("shadowqa")
    return [str(shadowqa), "pipeline", "run", "--frames", str(FRAMES), "--window", str(WINDOW),
            "--metrics-port", str(base), "--report", str(report)]


def _follow(process: subprocess.Popen[str], lines: list[str], bootstrap: str,
            poisoned: list[str | BaseException]) -> None:
    """Collect the command's output; once it names the run's topic prefix, send the malformed frames (aside)."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        found = re.search(r"topics created under prefix '([^']+)'", line)
        if found:
            topic = TopicNames(found.group(1)).frames
            threading.Thread(target=_poison, args=(bootstrap, topic, poisoned), daemon=True).start()


def _poison(bootstrap: str, topic: str, outcome: list[str | BaseException]) -> None:
    try:
        sink = KafkaSink(bootstrap)
        for i, value in enumerate(POISON):
            sink.send(topic, f"poison-{i}".encode(), value)
        sink.flush()
        sink.close()
        outcome.append(topic)
    except Exception as exc:  # reported by the fixture
        outcome.append(exc)


def test_every_metrics_port_was_scraped(demo: DemoRun) -> None:
    up = {s["metric"]["job"]: max(float(v) for _, v in s["values"])
          for s in demo.prometheus.query_range("up", demo.start, demo.end, STEP_S)}
    assert up == dict.fromkeys(ROLES, 1.0), f"scrape targets never up (0) or missing: {up}\n{_tail(demo.output)}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_stratum_variable_lists_strata(demo: DemoRun, name: str) -> None:
    query = variable_queries(MODELS[name])["stratum"]
    strata = demo.prometheus.query_range(label_values_as_promql(query), demo.start, demo.end, STEP_S)
    assert "all" in {s["metric"].get("stratum") for s in strata}, f"{query} lists {strata}"


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: f"{q.dashboard}/{q.panel}/{q.ref}")
def test_panel_query_returns_data(demo: DemoRun, query: PanelQuery) -> None:
    series = demo.series(query.expr)
    assert any(series), (f"no data for panel {query.panel!r} of {query.dashboard!r} (query {query.ref}): "
                         f"{expand(query.expr, TEST_VARIABLES)} returned {len(series)} series, none with a "
                         "finite value during the run")


def test_demo_reports_matches_offline_loses_nothing_and_leaves_nothing_running(demo: DemoRun) -> None:
    out, report = demo.output, demo.report
    assert "offline replay of the snapshots: equal to the online comparisons and agreement-stats" in out
    assert f"report: {report / 'report.html'}" in out
    summary = json.loads((report / "summary.json").read_text())
    assert summary["shipped"] + summary["queued"] == FRAMES  # the malformed frames went to dead letters
    assert summary["dead_letters"] >= len(POISON)
    assert summary["comparisons"] == summary["comparison_records"] > 0
    assert summary["offline_replay"]["matches_online"] is True
    team = summary["annotation_team"]  # the simulated people worked the queue through the API: nothing lost
    assert team["submitted"] == summary["annotated"] == summary["manual_tasks"] > 0
    assert team["claimed"] == team["submitted"] + team["abandoned"] + team["skipped"] + team["lease_lost"]
    with sqlite3.connect(report / "shadowqa.sqlite3") as db:  # the persisting worker stored what the topics carried
        tasks, submitted = db.execute("SELECT count(*), sum(state = 'submitted') FROM manual_tasks").fetchone()
        comparisons = db.execute("SELECT count(*) FROM comparisons").fetchone()[0]
        annotators = db.execute("SELECT count(DISTINCT annotator) FROM manual_annotations").fetchone()[0]
        routes = db.execute("SELECT count(*) FROM routes").fetchone()[0]
    assert tasks == submitted == summary["manual_tasks"]
    assert comparisons == summary["comparisons"]
    assert routes == FRAMES
    assert 2 <= annotators <= team["people"]
    html = (report / "report.html").read_text()
    assert "Acceptance over time" in html and "data:image/png;base64," in html
    assert not _processes_running()
    with admin_client(demo.bootstrap) as admin:  # the run's topics and groups are gone
        prefix = next(line.split("'")[1] for line in out.splitlines() if line.startswith("topics created"))
        assert not [t for t in admin.list_topics() if t.startswith(prefix)]
        assert not [g for g in admin.list_groups() if g["group_id"].startswith(prefix)]


def _processes_running() -> list[str]:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in ps.splitlines()
            if " worker --role " in line or "simulate annotators" in line or " api serve " in line]


def _free_port_block(size: int) -> int:
    """A BASE port such that BASE … BASE+size-1 are all free on 127.0.0.1 now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base: int = probe.getsockname()[1]
        if base + size < 65536 and all(_free(base + i) for i in range(size)):
            return base
    raise RuntimeError(f"no block of {size} free ports found")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _tail(output: str, lines: int = 30) -> str:
    return "\n".join(output.splitlines()[-lines:])
