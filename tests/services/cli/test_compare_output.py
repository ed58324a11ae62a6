"""``shadowqa compare`` output: the JSON contract and the readable table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli.main import main
from services.datasets.box_pairs import PairConfig, generate
from services.io.files import write_json


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("compare")
    manual, automation = generate(PairConfig(frames=50, objects_per_frame=6, seed=5))
    write_json(root / "gt.json", manual)
    write_json(root / "results.json", automation)
    return root / "results.json", root / "gt.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["compare", *argv])
    return code, capsys.readouterr().out


def test_json_has_frames_and_summary_as_documented(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--automation", str(files[0]), "--manual", str(files[1]), "--json")
    doc = json.loads(out)
    assert code == 0 and len(doc["frames"]) == 50
    assert set(doc["frames"][0]) >= {"image_id", "tp", "fp", "fn", "mean_iou", "accepted"}
    s = doc["summary"]
    assert {"precision", "recall", "f1", "acceptance_rate", "per_class"} <= set(s)
    acc = s["acceptance_rate"]
    assert acc["lower"] <= acc["estimate"] <= acc["upper"]
    assert acc["estimate"] == pytest.approx(sum(f["accepted"] for f in doc["frames"]) / 50)
    assert sum(f["tp"] for f in doc["frames"]) == s["tp"] == sum(c["tp"] for c in s["per_class"].values())
    assert set(s["per_class"]) <= {"car", "pedestrian", "cyclist", "traffic_sign"}


def test_options_change_the_result(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--automation", str(files[0]), "--manual", str(files[1]), "--json"]
    loose = json.loads(run(capsys, *base, "--iou", "0.3")[1])["summary"]
    strict = json.loads(run(capsys, *base, "--iou", "0.8")[1])["summary"]
    coco = json.loads(run(capsys, *base, "--matching", "coco")[1])["summary"]
    assert loose["tp"] > strict["tp"] and coco["matching"] == "coco"


def test_table_shows_overall_and_classes(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--automation", str(files[0]), "--manual", str(files[1]))
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("shadowqa compare:")
    assert any(line.startswith("overall") for line in lines)
    assert any(line.strip().startswith("car") for line in lines)
    assert "accepted [95% CI]" in out


def test_spec_file_changes_acceptance(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("max_missed: 10\nmax_extra: 10\nmin_iou: 0.5\n")
    base = ["--automation", str(files[0]), "--manual", str(files[1]), "--json"]
    strict = json.loads(run(capsys, *base)[1])["summary"]["acceptance_rate"]["estimate"]
    relaxed = json.loads(run(capsys, *base, "--spec", str(lenient))[1])["summary"]["acceptance_rate"]["estimate"]
    assert relaxed > strict
