"""The committed 3D detector served by the engine: loading, the CLI's run and eval, frames of the wrong sort."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from analysis.agreement import QualitySpec
from analysis.exceptions import InvalidInput
from services.cli.main import main
from services.datasets.driving3d.qa_spec import DRIVING3D_QA, REFERENCE_SPEC
from services.engine.decode_bev import decode_bev
from services.engine.evaluate import EvalReport, evaluate
from services.engine.frames import Frame
from services.engine.loading import builtin_module, load_runner
from services.engine.points import check_points, normalised, voxelise
from services.engine.reference import evaluate_reference, read_metrics
from services.engine.run import run_frames
from services.engine.runner import TorchRunner
from services.engine.sources import open_source

SWEEPS = "synthetic://driving3d?seed=2&n=3"


@pytest.fixture(scope="module")
def bev() -> TorchRunner:
    return load_runner("builtin:driving3d-detector")


@pytest.fixture(scope="module")
def held_out() -> EvalReport:
    """The first 100 of the held-out sweeps metrics.json was scored on (500), under the reference spec."""
    return evaluate_reference("driving3d-detector", source="synthetic://driving3d?seed=2&n=100")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["engine", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_held_out_scores_are_those_of_a_real_imperfect_detector(held_out: EvalReport) -> None:
    """Within the bands issue 16 asks for, on 100 of metrics.json's 500 held-out sweeps (the full 500 are
    re-scored by `python -m benchmarks models`)."""
    m, recorded = held_out.metrics, read_metrics()["driving3d-detector"]
    assert held_out.model_version == recorded["model_version"] and held_out.failed == 0
    assert 0.2 <= m["nuscenes_map"] <= 0.9 and 0.2 <= recorded["nuscenes_map"] <= 0.9
    assert 0.05 < m["acceptance"]["rate"] < 0.95 and 0.05 < recorded["acceptance"] < 0.95
    assert set(m["per_class"]) == {"car", "pedestrian", "cyclist"}
    assert m["per_class"]["car"]["ap"] > m["per_class"]["pedestrian"]["ap"], "few points, hard to find"


def test_frame_confidence_rises_with_acceptance(held_out: EvalReport) -> None:
    deciles = held_out.metrics["acceptance_by_confidence_decile"]
    assert deciles[-1]["acceptance"] > deciles[0]["acceptance"]


def test_engine_run_writes_cuboids_equal_to_the_eager_module(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    code, stdout, _ = run_cli(capsys, "run", "--model", "builtin:driving3d-detector", "--images", SWEEPS,
                              "--out", str(out), "--no-progress")
    assert code == 0 and "3 frames annotated, 0 failed" in stdout
    doc = json.loads(out.read_text())
    assert [i["id"] for i in doc["images"]] == [1, 2, 3] and all(0 <= i["confidence"] <= 1 for i in doc["images"])
    module, spec, version = builtin_module("driving3d-detector")
    assert spec.grid is not None and {i["model_version"] for i in doc["images"]} == {version}
    frames = list(open_source(SWEEPS))
    with torch.inference_mode():
        x = normalised(voxelise([check_points(f) for f in frames], spec.grid, torch.device("cpu")), spec.input)
        eager = decode_bev(module(x), spec.decode, spec.grid)
    assert sum(len(d.boxes) for d in eager) > 5
    for frame, d in zip(frames, eager, strict=True):
        records = sorted((a for a in doc["annotations"] if a["image_id"] == frame.frame_id), key=lambda a: -a["score"])
        order = np.argsort(-d.scores, kind="stable")
        assert [a["category_id"] for a in records] == [spec.categories[k][0] for k in d.labels[order]]
        for a, box, score in zip(records, d.boxes[order], d.scores[order], strict=True):
            g = a["geometry"]
            assert g["type"] == "cuboid3d" and g["frame"] == "vehicle-iso8855" and a["score"] == pytest.approx(score,
                                                                                                               abs=1e-4)
            np.testing.assert_allclose([*g["centre"], *g["size"], g["yaw"]], box, atol=1e-4)


def test_engine_eval_on_sweeps_reports_nuscenes_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "driving3d.yaml"
    spec.write_text(yaml.safe_dump(DRIVING3D_QA))
    code, stdout, _ = run_cli(capsys, "eval", "--model", "builtin:driving3d-detector", "--images",
                              "synthetic://driving3d?seed=4&n=6", "--spec", str(spec), "--json", "--no-progress")
    report = json.loads(stdout)
    assert code == 0 and report["kind"] == "detector3d" and report["frames"] == 6
    assert 0.0 <= report["nuscenes_map"] <= 1.0 and set(report["per_class"]) == {"car", "pedestrian", "cyclist"}
    code, stdout, _ = run_cli(capsys, "eval", "--model", "builtin:driving3d-detector", "--images",
                              "synthetic://driving3d?seed=4&n=6", "--spec", str(spec), "--no-progress")
    assert code == 0 and "nuScenes-style mAP" in stdout and "mATE" in stdout


def test_frames_of_the_wrong_sort_fail_alone_with_a_clear_error(bev: TorchRunner) -> None:
    image_model = load_runner("builtin:driving-detector")
    sweep = next(iter(open_source(SWEEPS)))
    image = next(iter(open_source("synthetic://driving?seed=2&n=1")))
    bad = Frame(7, None, points=np.zeros((5, 2), dtype=np.float32))
    on_points = run_frames(bev, [image, sweep, bad])
    assert [r.ok for r in on_points.results] == [False, True, False]
    assert "takes a point cloud" in str(on_points.results[0].error)
    assert "(N, 4) float point cloud" in str(on_points.results[2].error)
    on_images = image_model.infer([sweep, image])
    assert not on_images[0].ok and on_images[1].ok and "the frame is a point cloud" in str(on_images[0].error)


def test_evaluating_results_against_ground_truth_of_the_other_sort_is_refused(bev: TorchRunner) -> None:
    sweeps, images = open_source(SWEEPS), open_source("synthetic://driving?seed=2&n=2")
    with pytest.raises(InvalidInput, match="every one failed"):
        evaluate(run_frames(load_runner("builtin:driving-detector"), sweeps), sweeps, REFERENCE_SPEC)
    with pytest.raises(InvalidInput, match="scored against OpenLABEL"):
        evaluate(run_frames(bev, sweeps), images, REFERENCE_SPEC)
    with pytest.raises(InvalidInput, match="neither COCO"):
        evaluate(run_frames(bev, sweeps), _Odd(), REFERENCE_SPEC)


class _Odd:
    """Sweeps whose ground truth is neither COCO nor OpenLABEL."""

    name = "odd://"

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Frame]:
        return iter(())

    def ground_truth(self) -> dict[str, Any]:
        return {"frames": []}


def test_the_example_spec_of_the_lidar_scenes_is_their_reference_spec() -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "specs" / "driving3d.yaml"
    doc = yaml.safe_load(example.read_text(encoding="utf-8"))
    assert QualitySpec.from_mapping(doc, str(example)) == REFERENCE_SPEC
