"""``shadowqa engine run|eval|export`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli.main import main
from services.engine.export import export_source
from services.engine.sources import open_source


def test_run_writes_coco_results_that_compare_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    code = main(["engine", "run", "--model", "builtin:driving-detector", "--images",
                 "synthetic://driving?seed=9&n=6", "--out", str(out), "--no-progress"])
    assert code == 0 and "6 frames annotated, 0 failed" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert {i["id"] for i in doc["images"]} == set(range(1, 7))
    assert all("confidence" in i and i["model_version"].startswith("driving-detector@") for i in doc["images"])


def test_unreadable_images_fail_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = export_source(open_source("synthetic://driving?seed=9&n=4"), tmp_path)
    assert not summary.failed
    (tmp_path / "frames" / "000002.png").write_bytes(b"not a png")
    out = tmp_path / "results.json"
    code = main(["engine", "run", "--model", "builtin:driving-detector", "--images",
                 str(tmp_path / "annotations.json"), "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "3 frames annotated, 1 failed" in captured.out
    assert "000002.png" in captured.err
    images = json.loads(out.read_text())["images"]
    assert [bool(i.get("error")) for i in images] == [False, True, False, False]


def test_eval_reports_map_recall_by_size_and_acceptance(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["engine", "eval", "--model", "builtin:driving-detector", "--images",
                 "synthetic://driving?seed=9&n=30", "--no-progress", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["kind"] == "detector" and report["frames"] == 30
    assert 0 <= report["map"] <= report["map50"] <= 1
    assert len(report["recall_by_size"]) == 4 and "acceptance" in report


def test_eval_of_the_digits_classifier(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["engine", "eval", "--model", "builtin:digits", "--images", "sklearn-digits://?split=test",
                 "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "digit accuracy" in out and "ECE" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "builtin:nope"], "unknown builtin model"),
        (["--model", "/nonexistent/model.pt"], "no such model file"),
        (["--images", "ftp://frames"], "ftp://frames"),
        (["--device", "cuda:7"], "cuda:7"),
    ],
)
def test_bad_engine_input_is_one_line_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {"--model": "builtin:digits", "--images": "sklearn-digits://?split=test", "--device": "cpu"}
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    args = [x for kv in base.items() for x in kv]
    code = main(["engine", "run", *args, "--out", str(tmp_path / "r.json"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err


def test_export_writes_torchscript_and_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engine", "export", "--model", "builtin:digits", "--out", str(tmp_path / "d.pt")]) == 0
    assert (tmp_path / "d.pt").exists() and (tmp_path / "d.json").exists()
