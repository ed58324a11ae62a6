"""The offline shadow loop: blind annotation, faithful comparisons, determinism, report."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from services.cli.main import main
from services.replay.config import ReplayConfig
from services.replay.data import ReplayData, prepare
from services.replay.loop import LoopRun, run_loop
from services.replay.report.build import build_report
from services.replay.summary import summary
from tests.utils.browser import chromium, evaluate_in_page

CFG = ReplayConfig(frames=500, window=100, seed=3)


@pytest.fixture(scope="module")
def data() -> ReplayData:
    return prepare(CFG)


@pytest.fixture(scope="module")
def run(data: ReplayData) -> LoopRun:
    return run_loop(CFG, data)


def test_the_loop_starts_at_automation_zero(run: LoopRun) -> None:
    first = run.decisions[: CFG.window]
    assert all(d.route == "manual" and d.inclusion_prob == 1.0 for d in first)
    assert run.windows[0].threshold == float("inf")


def test_every_comparison_equals_the_truth_for_that_frame(data: ReplayData, run: LoopRun) -> None:
    """The window-by-window comparator sees exactly what a full comparison of every frame says."""
    position = {int(i.frame_id): k for k, i in enumerate(data.info)}
    assert len(run.observations) > 0
    for obs in run.observations:
        assert obs.accepted == bool(data.true_accepted[position[int(obs.frame_id)]]), obs.frame_id
    for pair in run.consensus:
        assert pair.accepted == bool(data.true_floor[position[int(pair.frame_id)]]), pair.frame_id


def test_manual_frames_are_compared_and_shipped_ones_are_not(run: LoopRun) -> None:
    manual = {d.frame_id for d in run.decisions if d.route == "manual"}
    assert {o.frame_id for o in run.observations} == manual
    consensus = {d.frame_id for d in run.decisions if d.copies == 2}
    assert {o.frame_id for o in run.consensus} == consensus and 0 < len(consensus) < len(manual)


def test_replays_are_deterministic(data: ReplayData, run: LoopRun) -> None:
    again = run_loop(CFG, data)
    assert [(d.frame_id, d.route, d.inclusion_prob) for d in again.decisions] == [
        (d.frame_id, d.route, d.inclusion_prob) for d in run.decisions
    ]


def test_summary_puts_the_estimate_beside_the_truth(data: ReplayData, run: LoopRun) -> None:
    s = summary(CFG, data, run)
    est = s["estimated_population_acceptance"]
    assert est["n"] == len(run.observations)
    assert abs(est["estimate"] - s["true_population_acceptance"]) < 0.1
    assert len(s["windows"]) == 5 and 0.0 <= s["final_automation_rate"] <= 1.0
    assert s["human_floor"]["true"] > s["true_population_acceptance"]
    json.dumps(s)  # plain JSON


def _data_uris(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_report_images_are_valid_pngs(data: ReplayData, run: LoopRun, tmp_path: Path) -> None:
    html = build_report(CFG, data, run, summary(CFG, data, run))
    images = _data_uris(html)
    assert len(images) >= 6  # 4 plots, the human floor, and gallery frames
    for png in images:
        picture = Image.open(io.BytesIO(png))
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] > 100 and picture.size[1] > 100


def test_report_renders_in_headless_chromium(data: ReplayData, run: LoopRun, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(build_report(CFG, data, run, summary(CFG, data, run)))
    with chromium() as port:
        sizes = evaluate_in_page(port, page, "Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
    assert len(sizes) >= 6 and all(done and width > 100 for done, width in sizes), sizes


def test_digits_replay_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", "--dataset", "builtin:digits", "--frames", "600", "--window", "100",
                 "--report", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "report:" in out
    s = json.loads((tmp_path / "summary.json").read_text())
    est = s["estimated_population_acceptance"]
    assert est["lower"] <= s["true_population_acceptance"] <= est["upper"]
    assert s["true_population_acceptance"] > 0.9
    assert (tmp_path / "report.html").stat().st_size > 10_000


def test_replay_rejects_impossible_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", "--dataset", "builtin:digits", "--frames", "5", "--window", "5", "--report", str(tmp_path)])
    assert code == 2 and "window" in capsys.readouterr().err


def test_shipped_frames_are_never_read_by_people(data: ReplayData, run: LoopRun) -> None:
    shipped = np.array([d.route == "ship" for d in run.decisions])
    compared = {o.frame_id for o in run.observations}
    assert not any(d.frame_id in compared for d, s in zip(run.decisions, shipped, strict=True) if s)
