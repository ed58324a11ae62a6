"""Judging every step of a chain against the ground truth: the reference chain on a held-out sequence seed, a
broken tracker and a starved detector named as the limiting step, and ``shadowqa engine eval --pipeline``."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from analysis.tracking import track_metrics
from analysis.tracking.concat import concatenate
from services.cli.main import main
from services.datasets.driving.builtin_specs import BUILTIN
from services.engine.chain.clip_tracks import ClipLayout, step_tracks, truth_tracks
from services.engine.chain.data import FrameInfo, StepOutput
from services.engine.chain.evaluate import ChainEvaluation, evaluate_run, read_run, render_evaluation
from services.engine.chain.registry import register, unregister
from services.engine.chain.run import run_chain
from services.engine.chain.spec import PipelineSpec, parse_pipeline
from services.engine.chain.step import ChainStep, RunContext
from services.engine.chain.steps.detect import DetectParams, DetectStep
from services.engine.chain.steps.track import TrackStep
from services.engine.chain.tracking import TrackParams
from services.engine.results import AutomationResult
from services.engine.sources import open_source

EXAMPLE = BUILTIN["builtin:driving-chain"]
HELD_OUT = "synthetic://driving-seq?seed=2027&clips=4&length=40"  # no training or other test uses seed 2027
SMALL = "synthetic://driving-seq?seed=2027&clips=2&length=40"


@dataclass(frozen=True)
class ShuffledParams(TrackParams):
    every: int = field(default=4, metadata={"minimum": 1})


class ShuffledTrack(TrackStep):
    """A broken tracker: the reference tracker, then every ``every`` frames each id moves to another track."""

    Params = ShuffledParams

    def version(self) -> str:
        return f"shuffled-{self.spec.params.every}-{super().version()}"

    def run(self, data: StepOutput | None, context: RunContext) -> StepOutput:
        out = super().run(data, context)
        every = self.spec.params.every
        results = tuple(replace(r, track_ids=np.where(r.track_ids >= 0, r.track_ids + 7 * (f.frame_index // every),
                                                      -1)) if len(r.track_ids) else r
                        for f, r in zip(out.frames, out.results, strict=True))
        return StepOutput(out.frames, results, out.interpolated)


@dataclass(frozen=True)
class StrictParams(DetectParams):
    min_score: float = 0.85


class StrictDetect(DetectStep):
    """The reference detector keeping only boxes scored ``min_score`` or more: it misses most objects."""

    Params = StrictParams

    def version(self) -> str:
        return f"{super().version()}-min{self.spec.params.min_score}"

    def run(self, data: StepOutput | None, context: RunContext) -> StepOutput:
        out = super().run(data, context)
        keep = [r.scores >= self.spec.params.min_score for r in out.results]
        results = tuple(replace(r, boxes=r.boxes[k], category_ids=r.category_ids[k], scores=r.scores[k]) if r.ok
                        else r for r, k in zip(out.results, keep, strict=True))
        return StepOutput(out.frames, results)


@dataclass(frozen=True)
class TruthParams:
    shift: float = 1.0


class TruthDetect(ChainStep):
    """A near-perfect detector: the source's ground-truth boxes moved ``shift`` pixels right (no pixels read)."""

    Params = TruthParams
    reads_frames = True

    def version(self) -> str:
        return f"truth-boxes-{self.spec.params.shift}"

    def run(self, data: StepOutput | None, context: RunContext) -> StepOutput:
        assert context.source is not None
        doc = context.source.ground_truth()
        boxes: dict[int, list[list[float]]] = {}
        for a in doc["annotations"]:
            boxes.setdefault(a["image_id"], []).append([a["bbox"][0] + self.spec.params.shift, *a["bbox"][1:]])
        infos = tuple(FrameInfo(im["id"], im["video_id"], im["frame_index"]) for im in doc["images"])
        results = tuple(AutomationResult(f.frame_id, "truth", boxes=np.array(boxes.get(f.frame_id, []),
                                                                             dtype=np.float64).reshape(-1, 4),
                                         category_ids=np.ones(len(boxes.get(f.frame_id, [])), dtype=np.int64),
                                         scores=np.full(len(boxes.get(f.frame_id, [])), 0.9)) for f in infos)
        return StepOutput(infos, results)


KINDS = {"shuffled-track": ShuffledTrack, "strict-detect": StrictDetect, "truth-detect": TruthDetect}


@pytest.fixture(scope="module", autouse=True)
def test_kinds() -> Iterator[None]:
    for name, kind in KINDS.items():
        register(name)(kind)
    yield
    for name in KINDS:
        unregister(name)


def reference_doc() -> dict[str, Any]:
    """The reference pipeline under torch (no ONNX export at load: faster, same model version)."""
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    doc["steps"][0]["params"] = {"runtime": "torch"}
    return doc


def pipeline(detect_kind: str = "detect", track_kind: str = "track", **detect: Any) -> PipelineSpec:
    doc = reference_doc()
    if detect_kind == "truth-detect":
        doc["steps"][0] = {"name": "detect", "kind": detect_kind}
    else:
        doc["steps"][0].update(kind=detect_kind, params={"runtime": "torch", **detect})
    doc["steps"][1]["kind"] = track_kind
    return parse_pipeline(doc, "test.yaml")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ChainEvaluation]:
    out = tmp_path_factory.mktemp("reference") / "run"
    run_chain(pipeline(), out, RunContext(open_source(HELD_OUT)), source=HELD_OUT)
    return out, evaluate_run(out, open_source(HELD_OUT).ground_truth())


def test_the_reference_chain_is_real_and_imperfect(reference: tuple[Path, ChainEvaluation]) -> None:
    ev = reference[1].overall
    final = ev.steps[-1].figures
    assert [s.name for s in ev.steps] == ["detect", "track", "post"] and ev.clips == 4
    assert 0.3 < final.idf1 < 0.95 and final.switches > 0
    assert math.isclose(sum(ev.shares), 1.0, abs_tol=1e-12) and ev.limiting_step in ("detect", "track", "post")
    assert [s.has_ids for s in ev.steps] == [False, True, True]


def test_the_run_is_the_sum_of_its_clips_and_agrees_with_the_tracking_metrics(
        reference: tuple[Path, ChainEvaluation]) -> None:
    folder, ev = reference
    assert [s.attributed for s in ev.overall.steps] != [s.attributed for s in ev.clips[0].attribution.steps]
    for k, step in enumerate(ev.overall.steps):
        assert step.figures == sum((c.attribution.steps[k].figures for c in ev.clips[1:]),
                                   ev.clips[0].attribution.steps[k].figures)
    truth_doc = open_source(HELD_OUT).ground_truth()
    layout = ClipLayout.of(truth_doc)
    truth = truth_tracks(truth_doc, layout, HELD_OUT)
    post = step_tracks("post", dict(read_run(folder)[1])["post"], layout)
    whole = track_metrics(concatenate(list(truth.values())), concatenate([post[v].tracks for v in layout.lengths]))
    final = ev.overall.final
    assert (final.misses, final.false_positives, final.switches) == (
        whole.clear.num_misses, whole.clear.num_false_positives, whole.clear.num_switches)
    assert math.isclose(ev.overall.steps[-1].figures.idf1, whole.identity.idf1, abs_tol=1e-12)
    assert ev.hota[0] is None and math.isclose(ev.hota[-1] or math.nan, whole.hota.hota, abs_tol=1e-12)


def test_a_run_from_the_last_step_holds_every_earlier_step_and_judges_like_the_full_run(
        reference: tuple[Path, ChainEvaluation], tmp_path: Path) -> None:
    folder, full = reference
    out = tmp_path / "repost"
    run_chain(pipeline(), out, RunContext(), from_step="post", snapshot=folder, source=HELD_OUT)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["detect", "post", "track"]
    again = evaluate_run(out, open_source(HELD_OUT).ground_truth())
    assert again.overall == full.overall


def test_with_the_reference_detector_even_a_shuffling_tracker_is_not_the_limit(
        reference: tuple[Path, ChainEvaluation], tmp_path: Path) -> None:
    """The reference detector's own misses are over half the final errors: no tracker can outweigh them."""
    folder, good = reference
    out = tmp_path / "shuffled"
    run_chain(pipeline(track_kind="shuffled-track"), out, RunContext(), from_step="track", snapshot=folder,
              source=HELD_OUT)
    ev = evaluate_run(out, open_source(HELD_OUT).ground_truth())
    assert ev.overall.step("track").attributed.switches > 5 * good.overall.step("track").attributed.switches
    assert ev.overall.step("detect").introduced == good.overall.step("detect").introduced  # the same detections
    assert good.limiting_step == ev.limiting_step == "detect"


def test_with_a_near_perfect_detector_a_shuffling_tracker_is_the_limiting_step(tmp_path: Path) -> None:
    source = open_source(HELD_OUT)
    truth = source.ground_truth()
    judged = {}
    for kind in ("track", "shuffled-track"):
        run_chain(pipeline(detect_kind="truth-detect", track_kind=kind), tmp_path / kind, RunContext(source),
                  source=HELD_OUT)
        judged[kind] = evaluate_run(tmp_path / kind, truth).overall
    good, broken = judged["track"], judged["shuffled-track"]
    assert broken.limiting_step == "track" and good.limiting_step != "track"
    assert broken.step("detect").introduced == good.step("detect").introduced
    assert broken.shares[1] > 0.45 > good.shares[1]


def test_a_detector_that_keeps_only_its_surest_boxes_is_the_limiting_step(
        reference: tuple[Path, ChainEvaluation], tmp_path: Path) -> None:
    out = tmp_path / "strict"
    run_chain(pipeline(detect_kind="strict-detect", min_score=0.85), out, RunContext(open_source(SMALL)),
              source=SMALL)
    ev = evaluate_run(out, open_source(SMALL).ground_truth())
    assert ev.limiting_step == "detect"
    strict, good = ev.overall.step("detect"), reference[1].clips[:2]
    good_misses = sum(c.attribution.step("detect").attributed.misses for c in good)
    assert strict.figures.recall < 0.25 and strict.attributed.misses > 1.5 * good_misses


def test_the_report_names_the_limiting_step_per_clip_and_overall(reference: tuple[Path, ChainEvaluation]) -> None:
    ev = reference[1]
    text = render_evaluation(ev)
    assert text.count("limiting step:") == 5 and "overall (4 clips)" in text
    assert f"limiting step: {ev.limiting_step}" in text.split("overall")[1]


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "driving.yaml"
    path.write_text(yaml.safe_dump(reference_doc()))
    return path


def test_the_cli_runs_the_chain_and_prints_json(spec_file: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    small = "synthetic://driving-seq?seed=2027&clips=2&length=8"
    code = main(["engine", "eval", "--pipeline", str(spec_file), "--images", small, "--json", "--no-progress",
                 "--out", str(tmp_path / "run")])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["source"] == small and len(doc["clips"]) == 2
    overall = doc["overall"]
    assert [s["name"] for s in overall["steps"]] == ["detect", "track", "post"] and overall["clips"] == 2
    assert overall["limiting_step"] in ("detect", "track", "post")
    assert math.isclose(sum(s["share"] for s in overall["steps"]), 1.0, abs_tol=1e-12)
    assert overall["steps"][0]["agreement"]["hota"] is None and 0 <= overall["steps"][2]["agreement"]["hota"] <= 1
    assert (tmp_path / "run" / "manifest.json").is_file()


def test_the_cli_judges_a_finished_run(spec_file: Path, reference: tuple[Path, ChainEvaluation],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["engine", "eval", "--pipeline", str(spec_file), "--snapshot", str(reference[0]), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["source"] == HELD_OUT and doc["overall"] == json.loads(
        json.dumps(reference[1].to_dict()["overall"]))


@pytest.mark.parametrize(("argv", "message"), [
    (["--snapshot", "d"], "--snapshot: only with --pipeline"),
    (["--pipeline", "p.yaml", "--model", "builtin:digits"], "--model: not with --pipeline"),
    (["--pipeline", "p.yaml", "--snapshot", "d", "--out", "o"], "--out: not with --snapshot"),
    (["--pipeline", "p.yaml"], "--images: required"),
    (["--pipeline", "p.yaml", "--images", "x", "--iou-threshold", "2"], "must be in [0, 1]"),
])
def test_bad_eval_options_are_one_line_exit_2(argv: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engine", "eval", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_a_run_of_another_pipeline_is_refused(reference: tuple[Path, ChainEvaluation], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    other = reference_doc()
    other["steps"][2]["params"]["max_gap"] = 2
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(other))
    assert main(["engine", "eval", "--pipeline", str(path), "--snapshot", str(reference[0])]) == 2
    assert "post: the snapshot's step is" in capsys.readouterr().err


def test_untracked_boxes_left_out_or_kept_as_tracks_of_their_own(reference: tuple[Path, ChainEvaluation]) -> None:
    folder, dropped = reference
    kept = evaluate_run(folder, open_source(HELD_OUT).ground_truth(), untracked="singleton").overall
    detect, track = kept.step("detect").figures, kept.step("track").figures
    assert track.predictions == detect.predictions > dropped.overall.step("track").figures.predictions
    assert kept.step("post").figures == dropped.overall.step("post").figures  # post drops untracked boxes
    assert kept.step("track").removed.false_positives == 0 < dropped.overall.step("track").removed.false_positives
