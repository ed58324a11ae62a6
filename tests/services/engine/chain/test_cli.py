"""``shadowqa engine run --pipeline`` end to end on a small source with the reference detector."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from analysis.exceptions import InvalidInput
from services.cli.main import main
from services.datasets.driving.builtin_specs import BUILTIN
from services.engine.chain.manifest import read_manifest
from services.engine.chain.snapshot import OUTPUT
from services.engine.chain.steps.detect import model_version
from services.engine.sources import open_source

EXAMPLE = BUILTIN["builtin:driving-chain"]


def small_source() -> str:
    """20 frames: two clips of the synthetic driving video once that source exists, else one clip of scenes."""
    try:
        open_source("synthetic://driving-seq?seed=3&clips=2&length=10")
    except InvalidInput:
        return "synthetic://driving?seed=3&n=20"
    return "synthetic://driving-seq?seed=3&clips=2&length=10"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference pipeline under torch (no ONNX export at load: faster tests, same model version)."""
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["steps"][0]["params"] = {"runtime": "torch"}
    path = tmp_path_factory.mktemp("spec") / "driving.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def full(spec: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli")
    code = main(["engine", "run", "--pipeline", str(spec), "--images", small_source(), "--out", str(root / "full"),
                 "--results", str(root / "results.json"), "--no-progress"])
    assert code == 0
    return root / "full", root / "results.json"


def test_the_run_prints_each_step_and_writes_snapshots_manifest_and_results(
        full: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out, results = full
    manifest = read_manifest(out)
    assert [s.name for s in manifest.steps] == ["detect", "track", "post"]
    assert manifest.frames == 20 and manifest.source == small_source()
    assert manifest.model_version.startswith("detect@driving-detector@")
    assert "+track@norfair-enough-2.4.3-" in manifest.model_version and "+post@" in manifest.model_version
    doc = json.loads(results.read_text())
    assert doc == json.loads((out / "post" / "results.json").read_text())
    assert {i["model_version"] for i in doc["images"]} == {manifest.model_version}
    tracked = [a for a in doc["annotations"] if "track_id" in a]
    assert tracked and len(tracked) == len(doc["annotations"])  # the post step drops untracked boxes


def test_from_step_track_gives_the_full_chains_output_bit_for_bit(
        spec: Path, full: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = full
    capsys.readouterr()
    code = main(["engine", "run", "--pipeline", str(spec), "--from-step", "track", "--snapshot", str(out),
                 "--out", str(tmp_path / "again"), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0 and "(from snapshot)" in printed and "frames/s" in printed
    again = read_manifest(tmp_path / "again")
    assert [s.hash for s in again.steps] == [s.hash for s in read_manifest(out).steps]
    for step in ("track", "post"):
        with np.load(out / step / OUTPUT) as a, np.load(tmp_path / "again" / step / OUTPUT) as b:
            assert all(a[k].tobytes() == b[k].tobytes() for k in a.files)


def test_the_detect_steps_version_is_the_runners(full: tuple[Path, Path]) -> None:
    from services.engine.loading import load_runner

    version = model_version("builtin:driving-detector")
    assert version == load_runner("builtin:driving-detector", runtime="torch").model_version
    assert read_manifest(full[0]).steps[0].version == version


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "builtin:digits"], "--model: not with --pipeline"),
    (["--from-step", "track"], "--from-step and --snapshot go together"),
    (["--from-step", "tracking", "--snapshot", "."], "no step named 'tracking'"),
])
def test_bad_pipeline_options_are_one_line_exit_2(spec: Path, tmp_path: Path, argv: list[str], message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["engine", "run", "--pipeline", str(spec), "--images", "synthetic://driving?n=2",
                 "--out", str(tmp_path / "o"), *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "builtin:digits", "--images", "sklearn-digits://", "--snapshot", "d"], "--snapshot: only with"),
    (["--images", "sklearn-digits://"], "give --model and --images, or --pipeline"),
])
def test_chain_options_without_a_pipeline_are_refused(tmp_path: Path, argv: list[str], message: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engine", "run", *argv, "--out", str(tmp_path / "r.json")]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_spec_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - {name: detect, kind: detect, model: builtin:driving-detector, gpu: 1}\n")
    code = main(["engine", "run", "--pipeline", str(bad), "--images", "synthetic://driving?n=2", "--out",
                 str(tmp_path / "o")])
    assert code == 2 and f"{bad}: steps[0].gpu: unknown key" in capsys.readouterr().err
