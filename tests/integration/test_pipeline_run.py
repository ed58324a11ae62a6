"""``shadowqa pipeline run`` as a user runs it (what ``make demo`` does, on fewer frames)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from services.infra.client import admin_client
from services.settings import Settings

SHADOWQA = Path(sys.executable).parent / "shadowqa"
ROOT = Path(__file__).resolve().parents[2]


def _workers_running() -> list[str]:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in ps.splitlines()
            if " worker --role " in line or "simulate annotators" in line or " api serve " in line]


def test_pipeline_run_reports_matches_offline_and_leaves_nothing_running(
    tmp_path: Path, kafka_bootstrap: str, settings: Settings,
) -> None:
    assert not _workers_running(), "workers of another run are still alive"
    done = subprocess.run([str(SHADOWQA), "pipeline", "run", "--frames", "400", "--rate", "100", "--report",
                           str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=480, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "offline replay of the snapshots: equal to the online comparisons and agreement-stats" in out
    assert f"report: {tmp_path / 'report.html'}" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["shipped"] + summary["queued"] == 400
    assert summary["comparisons"] == summary["comparison_records"] > 0
    assert summary["offline_replay"]["matches_online"] is True
    team = summary["annotation_team"]  # the simulated people worked the queue through the API: nothing lost
    assert team["submitted"] == summary["annotated"] == summary["manual_tasks"] > 0
    assert team["claimed"] == team["submitted"] + team["abandoned"] + team["skipped"] + team["lease_lost"]
    database = tmp_path / "shadowqa.sqlite3"  # and the persisting worker stored what the topics carried
    with sqlite3.connect(database) as db:
        tasks, submitted = db.execute("SELECT count(*), sum(state = 'submitted') FROM manual_tasks").fetchone()
        comparisons = db.execute("SELECT count(*) FROM comparisons").fetchone()[0]
        annotators = db.execute("SELECT count(DISTINCT annotator) FROM manual_annotations").fetchone()[0]
    assert tasks == submitted == summary["manual_tasks"]
    assert comparisons == summary["comparisons"]
    assert 2 <= annotators <= team["people"]
    html = (tmp_path / "report.html").read_text()
    assert "Acceptance over time" in html and "data:image/png;base64," in html
    assert not _workers_running()
    with admin_client(kafka_bootstrap) as admin:  # the run's topics and groups are gone
        prefix = next(line.split("'")[1] for line in out.splitlines() if line.startswith("topics created"))
        assert not [t for t in admin.list_topics() if t.startswith(prefix)]
        assert not [g for g in admin.list_groups() if g["group_id"].startswith(prefix)]
