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
from services.loop.config import LoopConfig
from services.replay.config import ReplayConfig
from services.replay.data import ReplayData, counts_against, only_frames, prepare
from services.replay.loop import LoopRun, run_loop
from services.replay.report.view import build_replay_report
from services.replay.summary import summary
from tests.utils.browser import chromium, evaluate_in_page

CFG = ReplayConfig(loop=LoopConfig(window=100), frames=500, seed=3)


@pytest.fixture(scope="module")
def data() -> ReplayData:
    return prepare(CFG)


@pytest.fixture(scope="module")
def run(data: ReplayData) -> LoopRun:
    return run_loop(CFG, data)


def test_the_loop_starts_at_automation_zero(run: LoopRun) -> None:
    first = run.decisions[: CFG.loop.window]
    assert all(d.route == "manual" and d.inclusion_prob == 1.0 for d in first)
    assert run.windows[0].threshold == float("inf")


def test_every_comparison_is_what_comparing_only_the_manual_frames_says(data: ReplayData, run: LoopRun) -> None:
    """The loop reads comparisons made over every frame up front; comparing the frames sent to people alone (as
    the blind comparator would) gives the same verdict for each of them."""
    manual = {int(o.frame_id) for o in run.observations}
    pairs = {int(o.frame_id) for o in run.consensus}
    first = only_frames(data.people[0], manual)
    alone = counts_against(only_frames(data.machine, manual), first, CFG)
    floor = counts_against(only_frames(data.people[1], pairs), only_frames(first, pairs), CFG)
    verdict = {int(img["id"]): bool(a) for img, a in zip(first["images"], alone.accepted, strict=True)}
    assert 0 < len(pairs) < len(manual) and len(verdict) == len(manual)
    assert all(o.accepted == verdict[int(o.frame_id)] for o in run.observations)
    pair_ids = [img["id"] for img in only_frames(first, pairs)["images"]]
    assert {o.frame_id: o.accepted for o in run.consensus} == {
        str(i): bool(a) for i, a in zip(pair_ids, floor.accepted, strict=True)}


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
    assert sum(w["shipped"] + w["manual"] for w in s["windows"]) == CFG.frames
    assert 0.0 <= s["final_automation_rate"] <= 1.0
    assert s["human_floor"]["true"] > s["true_population_acceptance"]
    json.dumps(s)  # plain JSON


def _data_uris(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_report_images_are_valid_pngs(data: ReplayData, run: LoopRun, tmp_path: Path) -> None:
    html = build_replay_report(CFG, data, run, summary(CFG, data, run))
    images = _data_uris(html)
    assert len(images) >= 6  # 4 plots, the human floor, and gallery frames
    for png in images:
        picture = Image.open(io.BytesIO(png))
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] > 100 and picture.size[1] > 100


def test_report_renders_in_headless_chromium(data: ReplayData, run: LoopRun, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(build_replay_report(CFG, data, run, summary(CFG, data, run)))
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


def test_the_recommender_steps_every_window_machine_comparisons(run: LoopRun) -> None:
    """``window`` means machine comparisons per step, as online: every stepped window compared exactly that many
    frames (each frame sent to people is one machine comparison); only the frames after the last step are fewer."""
    stepped = [w for w in run.windows if w.stepped]
    assert len(stepped) >= 2 and all(w.manual == CFG.loop.window for w in stepped)
    assert all(w.manual < CFG.loop.window for w in run.windows if not w.stepped)
    assert len(run.candidates) > 0


def test_replay_rejects_impossible_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", "--dataset", "builtin:digits", "--frames", "5", "--window", "5", "--report", str(tmp_path)])
    assert code == 2 and "window" in capsys.readouterr().err


def test_shipped_frames_are_never_read_by_people(data: ReplayData, run: LoopRun) -> None:
    shipped = np.array([d.route == "ship" for d in run.decisions])
    compared = {o.frame_id for o in run.observations}
    assert not any(d.frame_id in compared for d, s in zip(run.decisions, shipped, strict=True) if s)
