"""Exporting data sets: ``export_source`` and the ``shadowqa dataset export`` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.annotations import parse_ground_truth
from analysis.exceptions import InvalidInput
from services.cli.main import main
from services.datasets.driving import render_frame
from services.engine.export import export_source
from services.engine.frames import Frame
from services.engine.sources import NumpySource, SyntheticDrivingSource


def test_export_writes_one_png_per_frame_and_the_ground_truth(tmp_path: Path) -> None:
    source = SyntheticDrivingSource(seed=3, n=6)
    ticks: list[int] = []
    summary = export_source(source, tmp_path / "out", ticks.append)
    files = sorted(p.name for p in (tmp_path / "out" / "frames").iterdir())
    assert files == [f"{i:06d}.png" for i in range(1, 7)] and len(ticks) == 6
    doc = json.loads((tmp_path / "out" / "annotations.json").read_text())
    assert doc == source.ground_truth()
    assert summary.frames == 6 and sum(summary.objects.values()) == len(doc["annotations"])
    assert list(summary.objects) == ["car", "pedestrian", "cyclist", "traffic_sign"]
    with Image.open(tmp_path / "out" / "frames" / "000004.png") as png:
        assert np.array_equal(np.asarray(png), render_frame(3, 3).image)


def test_a_source_without_ground_truth_gets_image_records(tmp_path: Path) -> None:
    images = [np.full((4, 5, 3), 7, np.uint8), np.zeros((6, 2, 1), np.uint8)]
    export_source(NumpySource(images, ids=[10, 20]), tmp_path)
    doc = json.loads((tmp_path / "annotations.json").read_text())
    assert doc["images"] == [
        {"id": 10, "width": 5, "height": 4, "file_name": "frames/000010.png"},
        {"id": 20, "width": 2, "height": 6, "file_name": "frames/000020.png"},
    ]
    with Image.open(tmp_path / "frames" / "000020.png") as png:
        assert png.mode == "L"


class _Escaping:
    name = "escaping"

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(1, np.zeros((2, 2, 3), np.uint8), "../outside.png")

    def ground_truth(self) -> None:
        return None


def test_file_names_may_not_leave_the_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="outside"):
        export_source(_Escaping(), tmp_path / "out")
    assert not (tmp_path / "outside.png").exists()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``shadowqa dataset export ARGV``; argparse's exits included."""
    try:
        code = main(["dataset", "export", *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exports_driving_frames(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--dataset", "builtin:driving", "--seed", "2", "--frames", "5",
                           "--out", str(tmp_path))
    assert code == 0
    assert len(list((tmp_path / "frames").glob("*.png"))) == 5
    doc = json.loads((tmp_path / "annotations.json").read_text())
    parse_ground_truth(doc, "annotations.json")
    assert doc == SyntheticDrivingSource(2, 5).ground_truth()
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("exported 5 frames of synthetic://driving?seed=2&n=5: ")
    assert f"{len(doc['annotations'])} objects (" in lines[0] and " car, " in lines[0]
    assert str(tmp_path / "frames") in lines[0] and str(tmp_path / "annotations.json") in lines[0]


def test_cli_exports_a_digits_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--dataset", "builtin:digits", "--split", "calibration", "--frames", "12",
                           "--out", str(tmp_path))
    assert code == 0
    doc = json.loads((tmp_path / "annotations.json").read_text())
    assert len(doc["images"]) == 12 and all("digit" in image["tags"] for image in doc["images"])
    assert sorted(p.name for p in (tmp_path / "digits").iterdir()) == sorted(
        Path(image["file_name"]).name for image in doc["images"]
    )
    assert "exported 12 frames of sklearn-digits://?split=calibration&n=12: no objects" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "builtin:driving"], "the following arguments are required: --out"),
        (["--dataset", "builtin:cars", "--out", "X"], "invalid choice: 'builtin:cars'"),
        (["--dataset", "builtin:driving", "--frames", "0", "--out", "X"], "--frames: must be >= 1"),
        (["--dataset", "builtin:driving", "--seed", "-1", "--out", "X"], "--seed: must be >= 0"),
        (["--dataset", "builtin:driving", "--seed", "x", "--out", "X"], "--seed: expected an integer"),
        (["--dataset", "builtin:digits", "--split", "dev", "--out", "X"], "invalid choice: 'dev'"),
        (["--dataset", "builtin:driving", "--split", "test", "--out", "X"], "--split: applies to builtin:digits"),
        (["--dataset", "builtin:digits", "--seed", "3", "--out", "X"], "--seed: applies to builtin:driving"),
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "X").exists()
