"""``shadowqa dataset export --dataset builtin:driving-seq``: the clips' PNGs, COCO-video ground truth and a
MOTChallenge sequence per clip (gt.txt equal to the ground truth's tracks, seqinfo.ini), and what it refuses."""

from __future__ import annotations

import configparser
import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.cli.main import main
from services.engine.chain.clip_tracks import ClipLayout, truth_tracks
from services.engine.sequence_source import SyntheticDrivingSequenceSource
from services.io.motchallenge import read_motchallenge
from tests.services.engine.test_export import run_cli

SEED, CLIPS, LENGTH = 3, 2, 12


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    folder = tmp_path_factory.mktemp("seq") / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["dataset", "export", "--dataset", "builtin:driving-seq", "--seed", str(SEED), "--clips",
                     str(CLIPS), "--length", str(LENGTH), "--out", str(folder)])
    return folder, code, printed.getvalue().strip()


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(SyntheticDrivingSequenceSource(SEED, CLIPS, LENGTH).ground_truth()))
    return doc


def test_the_frames_and_the_coco_video_ground_truth_are_written(exported: tuple[Path, int, str],
                                                                truth: dict[str, Any]) -> None:
    folder, code, line = exported
    assert code == 0
    doc = json.loads((folder / "annotations.json").read_text())
    assert doc == truth
    pngs = sorted(str(p.relative_to(folder)) for p in (folder / "videos").rglob("*.png"))
    assert pngs == sorted(im["file_name"] for im in doc["images"]) and len(pngs) == CLIPS * LENGTH
    assert pngs[0] == "videos/0001/000000.png" and pngs[-1] == f"videos/0002/{LENGTH - 1:06d}.png"
    name = f"synthetic://driving-seq?seed={SEED}&clips={CLIPS}&length={LENGTH}"
    assert line.startswith(f"exported {CLIPS} clips, {CLIPS * LENGTH} frames of {name}: {len(doc['tracks'])} tracks, ")
    assert f"{len(doc['annotations'])} objects (" in line and str(folder / "mot") in line


def test_gt_txt_reads_back_as_the_ground_truths_tracks(exported: tuple[Path, int, str],
                                                       truth: dict[str, Any]) -> None:
    folder = exported[0]
    clips = truth_tracks(truth, ClipLayout.of(truth), "truth")
    assert sorted(p.name for p in (folder / "mot").iterdir()) == ["0001", "0002"] and list(clips) == [1, 2]
    for video, want in clips.items():
        got = read_motchallenge(folder / "mot" / f"{video:04d}" / "gt" / "gt.txt", layout="mot16",
                                num_frames=LENGTH)
        assert len(got) == len(want) > 0
        for column in ("frame", "track_id", "boxes", "category", "visibility"):
            assert np.array_equal(getattr(got, column), getattr(want, column)), column
        assert got.confidence is not None and (got.confidence == 1).all()
    visibility = sorted(a["attributes"]["visibility"] for a in truth["annotations"])
    read = sorted(v for clip in clips.values() for v in clip.visibility.tolist())  # type: ignore[union-attr]
    assert read == visibility and min(read) < 1  # the annotations' own, not a default


def test_seqinfo_names_the_sequence_and_its_frames(exported: tuple[Path, int, str], truth: dict[str, Any]) -> None:
    folder = exported[0]
    for video in truth["videos"]:
        seq = folder / "mot" / f"{video['id']:04d}"
        ini = configparser.ConfigParser()
        ini.optionxform = str  # type: ignore[assignment, method-assign]
        ini.read(seq / "seqinfo.ini")
        assert dict(ini["Sequence"]) == {
            "name": f"{video['id']:04d}", "imDir": f"../../videos/{video['id']:04d}", "frameRate": "10",
            "seqLength": str(LENGTH), "imWidth": str(video["width"]), "imHeight": str(video["height"]),
            "imExt": ".png",
        }
        assert (seq / ini["Sequence"]["imDir"] / "000000.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "builtin:driving-seq", "--frames", "5"], "--frames: not for builtin:driving-seq: give --clips"),
        (["--dataset", "builtin:driving", "--clips", "2"], "--clips: applies to builtin:driving-seq only"),
        (["--dataset", "builtin:digits", "--length", "5"], "--length: applies to builtin:driving-seq only"),
        (["--dataset", "builtin:driving-seq", "--split", "test"], "--split: applies to builtin:digits"),
        (["--dataset", "builtin:driving-seq", "--clips", "0"], "--clips: must be >= 1"),
        (["--dataset", "builtin:driving-seq", "--length", "10001"], "expected 1 to 10000 frames per clip"),
    ],
)
def test_options_for_another_data_set_are_refused(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *args, "--out", "X")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "X").exists()
