"""The offline shadow loop over clips: which step of the chain limits it, estimated beside the truth.

The reference chain replays 20 clips of ``driving-seq`` seed 2027 (the engine's held-out seed); a chain whose
tracker writes its boxes back as corners (x1, y1, x2, y2) where xywh belongs, a units bug, replays the first 12
of them through the command.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from services.cli.main import main
from services.datasets.driving.builtin_specs import BUILTIN
from services.engine.chain.data import StepOutput
from services.engine.chain.registry import register, unregister
from services.engine.chain.step import RunContext
from services.engine.chain.steps.track import TrackStep
from services.loop.config import LoopConfig
from services.loop.messages import StepVerdict
from services.loop.step_shares import add, initialize, result, step_shares
from services.replay.clip_data import ClipReplayData, prepare_clips
from services.replay.clip_summary import audited_shares
from services.replay.config import ReplayConfig
from services.replay.loop import LoopRun, run_loop
from services.replay.summary import summary

SEED, CLIPS, BROKEN_CLIPS = 2027, 20, 12
CFG = ReplayConfig(loop=LoopConfig(dataset="driving-seq", window=10), frames=CLIPS, seed=SEED)


class CornerTrack(TrackStep):
    """A broken tracker: the reference tracker, whose boxes come out as corners (x1, y1, x2, y2), not xywh."""

    def version(self) -> str:
        return f"corners-{super().version()}"

    def run(self, data: StepOutput | None, context: RunContext) -> StepOutput:
        out = super().run(data, context)
        corners = tuple(replace(r, boxes=np.concatenate([r.boxes[:, :2], r.boxes[:, :2] + r.boxes[:, 2:]], axis=1))
                        if r.ok else r for r in out.results)
        return StepOutput(out.frames, corners, out.interpolated)


@pytest.fixture(scope="module", autouse=True)
def corner_track() -> Iterator[None]:
    register("replay-test-corner-track")(CornerTrack)
    yield
    unregister("replay-test-corner-track")


@pytest.fixture(scope="module")
def data() -> ClipReplayData:
    return prepare_clips(CFG)


@pytest.fixture(scope="module")
def run(data: ClipReplayData) -> LoopRun:
    return run_loop(CFG, data)


@pytest.fixture(scope="module")
def doc(data: ClipReplayData, run: LoopRun) -> dict[str, Any]:
    return summary(CFG, data, run)


def verdict(name: str, attributed: tuple[int, int, int], accepted: bool = False) -> StepVerdict:
    m, fp, sw = attributed
    return StepVerdict(name=name, accepted=accepted, has_ids=name != "detect", objects=10, predictions=10, matched=5,
                       switches=sw, fragmentations=0, idtp=0, attributed_misses=m, attributed_false_positives=fp,
                       attributed_switches=sw)


@pytest.mark.parametrize(("clips", "share", "weighted", "limiting", "unweighted_limiting"), [
    ([((4, 0, 0), (1, 0, 0), 1.0)], (0.8, 0.2), (0.8, 0.2), "detect", "detect"),
    ([((4, 0, 0), (0, 0, 0), 1.0), ((0, 0, 0), (0, 1, 2), 4.0)], (4 / 7, 3 / 7), (0.25, 0.75), "track", "detect"),
    ([((1, 0, 0), (0, 0, 1), 2.0)], (0.5, 0.5), (0.5, 0.5), "detect", "detect"),  # a tie: the earliest step
    ([((0, 0, 0), (0, 0, 0), 1.0)], (math.nan, math.nan), (math.nan, math.nan), None, None),  # no errors
])
def test_step_shares(clips: list[tuple[tuple[int, int, int], tuple[int, int, int], float]], share: tuple[float, ...],
                     weighted: tuple[float, ...], limiting: str | None, unweighted_limiting: str | None) -> None:
    out = step_shares(([verdict("detect", d), verdict("track", t)], w) for d, t, w in clips)
    assert [s.share for s in out.steps] == pytest.approx(share, nan_ok=True)
    assert [s.weighted_share for s in out.steps] == pytest.approx(weighted, nan_ok=True)
    assert (out.limiting, out.limiting_unweighted) == (limiting, unweighted_limiting)


def test_step_shares_merge_and_refuse_another_chain() -> None:
    one = add(initialize(), [verdict("detect", (1, 0, 0), accepted=True), verdict("track", (0, 1, 0))], 2.0)
    two = add(initialize(), [verdict("detect", (0, 0, 0)), verdict("track", (0, 0, 3))], 1.0)
    both = add(one, [verdict("detect", (0, 0, 0)), verdict("track", (0, 0, 3))], 1.0)
    assert result(one + two) == result(both) and type(one).from_dict(both.to_dict()) == both
    assert result(both).steps[0].accepted_share == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="chain"):
        add(one, [verdict("track", (0, 0, 0)), verdict("detect", (0, 0, 0))], 1.0)


@pytest.mark.parametrize("side", ["estimate", "truth"])
def test_shares_add_up_to_one_weighted_and_unweighted(doc: dict[str, Any], side: str) -> None:
    steps = doc["steps"][side]
    assert steps["final_errors"] > 0 and [s["name"] for s in steps["steps"]] == ["detect", "track", "post"]
    assert sum(s["share"] for s in steps["steps"]) == pytest.approx(1.0)
    assert sum(s["weighted_share"] for s in steps["steps"]) == pytest.approx(1.0)
    assert sum(s["attributed"] for s in steps["steps"]) == steps["final_errors"]


def test_the_steps_attributed_errors_are_the_sums_over_the_comparisons(
        data: ClipReplayData, run: LoopRun, doc: dict[str, Any]) -> None:
    truth = [c.steps for c in data.machine_vs_people]
    for side, verdicts in (("estimate", list(run.steps.values())), ("truth", truth)):
        for k, s in enumerate(doc["steps"][side]["steps"]):
            for kind in ("misses", "false_positives", "switches"):
                assert s[f"attributed_{kind}"] == sum(getattr(v[k], f"attributed_{kind}") for v in verdicts if v)
    for c in data.machine_vs_people:  # every final error of a clip is one step's
        assert c.steps is not None and c.tracking is not None
        assert sum(s.attributed for s in c.steps) == c.fp + c.fn + c.tracking.id_switches


def test_every_clip_the_loop_compares_is_judged_as_its_truth(data: ClipReplayData, run: LoopRun) -> None:
    truth = {c.frame_id: c for c in data.machine_vs_people}
    assert len(run.observations) == len(run.steps) >= CFG.loop.window
    for o in run.observations:
        assert o.accepted == truth[o.frame_id].accepted and run.steps[o.frame_id] == truth[o.frame_id].steps


def test_the_gate_and_the_recommender_step_on_clips(run: LoopRun, doc: dict[str, Any]) -> None:
    stepped = [w for w in run.windows if w.stepped]
    assert len(stepped) == CLIPS // CFG.loop.window and all(w.manual == CFG.loop.window for w in stepped)
    assert all(w.gate.decision in ("pass", "fail", "inconclusive") for w in run.windows)
    assert doc["unit"] == "clip" and doc["clips"] == CLIPS and doc["frames"] == 20 * CLIPS
    est = doc["estimated_population_acceptance"]
    assert est["n"] == len(run.observations) and est["lower"] <= doc["true_population_acceptance"] <= est["upper"]
    assert doc["human_floor"]["true"] > 0.0 and doc["manual_tasks"] >= len(run.observations)


def test_a_clip_replay_is_deterministic(data: ClipReplayData, run: LoopRun, doc: dict[str, Any]) -> None:
    again = run_loop(CFG, data)
    assert [(d.frame_id, d.route, d.inclusion_prob, d.copies) for d in again.decisions] == [
        (d.frame_id, d.route, d.inclusion_prob, d.copies) for d in run.decisions]
    assert json.dumps(summary(CFG, data, again)) == json.dumps(doc)


def test_the_estimate_weighs_each_compared_clip_by_1_over_pi(run: LoopRun) -> None:
    """The loop audits clips at π = 1 until it automates (a few hundred clips at this chain's acceptance): give
    half of them π = 1/4 and the weighted shares move, still adding up to 1."""
    halved = replace(run, observations=[replace(o, inclusion_prob=0.25 if k % 2 else 1.0)
                                        for k, o in enumerate(run.observations)])
    plain, weighted = audited_shares(run), audited_shares(halved)
    final = [sum(s.attributed for s in run.steps[o.frame_id]) for o in halved.observations]
    for k, s in enumerate(weighted.steps):
        mine = sum(run.steps[o.frame_id][k].attributed * o.weight for o in halved.observations)
        assert s.weighted_share == pytest.approx(mine / sum(f * o.weight for f, o in zip(final, halved.observations,
                                                                                         strict=True)))
        assert s.share == plain.steps[k].share
    assert sum(s.weighted_share for s in weighted.steps) == pytest.approx(1.0)
    assert [s.weighted_share for s in weighted.steps] != [s.weighted_share for s in plain.steps]


def test_a_broken_tracker_is_named_the_limiting_step(
        data: ClipReplayData, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chain = yaml.safe_load(Path(BUILTIN["builtin:driving-chain"]).read_text())
    chain["steps"][1]["kind"] = "replay-test-corner-track"
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(chain))
    code = main(["replay", "--dataset", "builtin:driving-seq", "--clips", str(BROKEN_CLIPS), "--seed", str(SEED),
                 "--window", "10", "--pipeline", str(tmp_path / "broken.yaml"), "--report", str(tmp_path / "out"),
                 "--no-progress"])
    out = capsys.readouterr().out
    broken = json.loads((tmp_path / "out" / "summary.json").read_text())["steps"]
    reference = step_shares((c.steps or [], 1.0) for c in data.machine_vs_people[:BROKEN_CLIPS])
    assert code == 0 and "limiting step: track" in out
    assert broken["estimate"]["limiting"] == broken["truth"]["limiting"] == "track"
    assert broken["estimate"]["steps"][1]["weighted_share"] > 0.5
    assert reference.limiting == "detect" != "track"  # the same clips through the reference chain
    assert broken["truth"]["steps"][0]["misses"] == reference.steps[0].misses  # the same clips, the same detector
    _the_report_has_a_gallery_per_step((tmp_path / "out" / "report.html").read_text())


def _the_report_has_a_gallery_per_step(html: str) -> None:
    assert "Which step is limiting" in html
    for name in ("detect", "track"):
        assert f"Where {name} introduced the most errors" in html and f'alt="{name}: clip-' in html
    images = [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]
    assert len(images) >= 8  # 4 plots, the human floor, gallery frames
    for png in images:
        picture = Image.open(io.BytesIO(png))
        picture.verify()
        assert picture.format == "PNG" and picture.size[0] > 100


@pytest.mark.parametrize(("args", "option"), [
    (["--dataset", "driving-seq", "--frames", "40"], "--clips"),
    (["--dataset", "driving", "--clips", "40"], "--frames"),
    (["--dataset", "driving", "--pipeline", "builtin:driving-chain"], "dataset of clips"),
    (["--dataset", "driving-seq", "--clips", "5"], "window"),
])
def test_the_command_counts_clips_and_frames_apart(
        args: list[str], option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", *args, "--report", str(tmp_path)]) == 2
    assert option in capsys.readouterr().err
