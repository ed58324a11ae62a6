"""``shadowqa pipeline run`` as a user runs it, on a machine slowed by other work (the engine throttled through
``SHADOWQA_TEST_ENGINE_DELAY_S``): a run that keeps moving completes however long it takes, one whose engine
stops fails naming the engine, and a relative ``--report`` lands in the caller's working directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from services.infra.process import command_line
from services.infra.topic_names import PER_FRAME, SINGLE, TopicNames
from services.settings import Settings
from services.tools.annotator_process import annotators
from services.tools.exceptions import WorkerFailed
from services.tools.pipeline_run import RunOptions

pytestmark = pytest.mark.slow

TEST_DELAY = "SHADOWQA_TEST_ENGINE_DELAY_S"  # services.settings.Settings.test_engine_delay_s
SHADOWQA = Path(sys.executable).with_name("shadowqa")
ROOT = Path(__file__).resolve().parents[2]
FRAMES, DELAY_S, STALL_S = 120, 0.25, 10  # 30 s of engine delays: three stall windows; a batch of 16 waits 4 s
HANG_GUARD_S = 600  # only against a hang of the test itself; the run decides when to give up


def _pipeline_run(cwd: Path, report: str, frames: int, delay_s: float, stall_s: float,
                  ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, TEST_DELAY: str(delay_s)}
    env.pop("SHADOWQA_DATABASE_URL", None)  # the run's own SQLite file, in the report folder
    argv = [str(SHADOWQA), "pipeline", "run", "--frames", str(frames), "--report", report,
            "--stall-timeout", str(stall_s), "--lease-seconds", "2"]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=HANG_GUARD_S, check=False)


def _left_running(folder: Path) -> list[list[str]]:
    """Processes whose command line names ``folder`` (the run's workers, API and annotators)."""
    found = []
    for entry in Path("/proc").iterdir():
        argv = command_line(int(entry.name)) if entry.name.isdigit() else None
        if argv and any(str(folder) in part for part in argv):
            found.append(argv)
    return found


@pytest.mark.faults
def test_a_throttled_run_that_keeps_moving_completes_past_many_stall_windows(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    """Run from another working directory with a relative --report: everything lands under that directory."""
    cwd, name = tmp_path / "elsewhere", f"report-{uuid.uuid4().hex[:8]}"
    cwd.mkdir()
    done = _pipeline_run(cwd, f"{name}/run", FRAMES, DELAY_S, STALL_S)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    folder = cwd / name / "run"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["elapsed_s"] > 3 * STALL_S  # by construction (FRAMES x DELAY_S of waits): the test is a test
    assert summary["engine_results"] == FRAMES and summary["offline_replay"]["matches_online"]
    assert summary["snapshot"] == str(folder / "snapshot")
    assert f"report: {folder / 'report.html'}" in done.stdout and (folder / "report.html").is_file()
    assert f"database: sqlite:///{folder / 'shadowqa.sqlite3'}" in done.stdout
    logs = {p.name for p in (folder / "logs").glob("*.log")}
    assert logs >= {f"{role}-0.log" for role in ("automation", "router", "comparator", "aggregator", "persist")}
    assert {"api.log"} <= logs
    assert sorted(p.stem for p in (folder / "snapshot").glob("*.jsonl")) == sorted(PER_FRAME + SINGLE)
    assert not (ROOT / name).exists(), "a path was resolved against the package's folder"
    assert _left_running(folder) == []


@pytest.mark.faults
def test_a_stage_that_stops_fails_the_run_naming_it_after_the_stall_window(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    """The engine takes an hour a frame: the feed finishes, nothing moves after it, and the run says so."""
    done = _pipeline_run(tmp_path, "run", 40, 3600.0, 5)
    assert done.returncode != 0
    stalled = re.search(r"the engine stalled: nothing moved for (\d+) s with 0 of 40 frames through the engine",
                        done.stderr)
    assert stalled, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert int(stalled.group(1)) >= 5
    assert "the feed: 40 of 40 frames fed" in done.stderr
    assert f"worker logs in {tmp_path / 'run' / 'logs'}" in done.stderr
    assert _left_running(tmp_path / "run") == []


def test_the_run_waits_for_its_annotators_and_names_them_when_they_cannot_start(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    """The people are ready (they hold the queue's partitions) before a run feeds anything; a team that exits first
    (here: its topics do not exist) fails the run with its log's last lines, instead of a run without people."""
    options = RunOptions(frames=10, out=tmp_path)
    missing = f"nosuch{uuid.uuid4().hex[:8]}-"
    with (pytest.raises(WorkerFailed, match=r"simulate annotators exited with status \d+ before it was ready"),
          annotators(missing, tmp_path / "logs", options)):
        pass


def test_a_team_is_ready_once_it_holds_the_queue(
    settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    with annotators(run_topics.prefix, tmp_path / "logs", RunOptions(frames=10, out=tmp_path)) as process:
        assert (tmp_path / "logs" / "annotators.ready").is_file() and process.poll() is None
    assert process.returncode == 130  # SIGINT at the block's end: finish, commit, exit as interrupted
