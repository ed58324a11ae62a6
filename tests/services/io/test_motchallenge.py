"""MOTChallenge text files: what is read (as motmetrics reads it), what is written, round trips, and errors."""

from __future__ import annotations

import importlib.resources
import warnings
from pathlib import Path

import numpy as np
import pytest

from analysis.tracking import Tracks
from services.exceptions import InvalidInput, UnreadableFile
from services.io.motchallenge import format_motchallenge, parse_motchallenge, read_motchallenge, write_motchallenge

DATA = Path(str(importlib.resources.files("motmetrics") / "data"))
TUD = ["TUD-Campus/gt.txt", "TUD-Campus/test.txt", "TUD-Stadtmitte/gt.txt", "TUD-Stadtmitte/test.txt"]


def columns(t: Tracks) -> dict[str, np.ndarray | None]:
    return {"frame": t.frame, "track_id": t.track_id, "boxes": t.boxes, "category": t.category,
            "confidence": t.confidence, "visibility": t.visibility}


def assert_identical(a: Tracks, b: Tracks) -> None:
    assert a.num_frames == b.num_frames
    for (name, x), y in zip(columns(a).items(), columns(b).values(), strict=True):
        assert (x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y)), name


def test_reads_motmetrics_io_example_with_frames_from_0_and_coco_pixels() -> None:
    tracks = read_motchallenge(DATA / "iotest" / "motchallenge.txt")
    assert tracks.num_frames == 2 and tracks.frame.tolist() == [0, 0, 1, 1, 1]
    assert tracks.track_id.tolist() == [1, 2, 2, 3, 4]
    # motmetrics' test_io expects these boxes: x and y minus 1 for Matlab's 1-based pixels
    assert tracks.boxes.tolist() == [[398, 181, 121, 229], [281, 200, 92, 184], [268, 201, 87, 182],
                                     [70, 150, 100, 284], [199, 205, 55, 137]]
    assert tracks.confidence is not None and tracks.confidence.tolist() == [1] * 5
    assert tracks.category is None and tracks.visibility is None


@pytest.mark.parametrize("name", TUD)
@pytest.mark.parametrize("layout", ["mot15-2D", "mot16"])
def test_reads_what_motmetrics_loadtxt_reads(name: str, layout: str) -> None:
    import motmetrics as mm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its loader's tuple arithmetic is deprecated in pandas 3
        df = mm.io.loadtxt(str(DATA / name), fmt=layout)
    if layout == "mot16" and not np.array_equal(df["ClassId"], np.round(df["ClassId"])):
        with pytest.raises(UnreadableFile, match=r"line 1: class: expected a whole number, got '4\.4852'"):
            read_motchallenge(DATA / name, layout="mot16")  # world coordinates are no class
        return
    tracks = read_motchallenge(DATA / name, layout=layout)  # type: ignore[arg-type]
    frames, ids = (np.asarray(df.index.get_level_values(k)) for k in ("FrameId", "Id"))
    assert np.array_equal(tracks.frame, frames - 1) and np.array_equal(tracks.track_id, ids)
    assert np.allclose(tracks.boxes, df[["X", "Y", "Width", "Height"]].to_numpy(float), rtol=0, atol=1e-12)
    assert np.array_equal(tracks.confidence, df["Confidence"].to_numpy(float))
    if layout == "mot16":
        assert np.array_equal(tracks.category, df["ClassId"].to_numpy(float))
        assert np.array_equal(tracks.visibility, df["Visibility"].to_numpy(float))


@pytest.mark.parametrize("name", TUD)
def test_file_to_tracks_to_file_gives_back_the_text(name: str) -> None:
    original = (DATA / name).read_text()
    written = format_motchallenge(read_motchallenge(DATA / name))
    if name == "TUD-Stadtmitte/gt.txt":  # its world coordinates x3d, y3d, z3d are dropped: written as -1
        original = "".join(",".join(line.split(",")[:7] + ["-1"] * 3) + "\n" for line in original.splitlines())
    assert written == original


@pytest.mark.parametrize("layout", ["mot15-2D", "mot16"])
def test_tracks_to_file_to_tracks_is_exact(tmp_path: Path, layout: str) -> None:
    rng = np.random.default_rng(0)
    n = 400
    boxes = np.c_[rng.normal(0, 3, (n, 2)), rng.exponential(30, (n, 2))]
    boxes[:50, :2] = rng.uniform(-1, 1, (50, 2))  # near the origin, where a binary shift by 1 would round
    boxes[50:60, :2] = [[0.1, -0.1], [1e-9, -3.27], [0.5, 1.5], [-0.0, 2**40 + 0.5], [1e-30, -1e-300]] * 2
    mot16 = layout == "mot16"
    tracks = Tracks.from_arrays(
        num_frames=500, frame=rng.permutation(n), track_id=rng.integers(-(10**12), 10**12, n), boxes=boxes,
        confidence=rng.normal(0, 1, n), category=rng.integers(-1, 12, n) if mot16 else None,
        visibility=rng.random(n) if mot16 else None,
    )
    path = tmp_path / "tracks.txt"
    write_motchallenge(path, tracks, layout=layout)  # type: ignore[arg-type]
    assert_identical(read_motchallenge(path, layout=layout, num_frames=500), tracks)  # type: ignore[arg-type]
    assert len(path.read_text().splitlines()[0].split(",")) == (9 if mot16 else 10)


def test_missing_columns_are_written_as_their_neutral_values() -> None:
    tracks = Tracks.from_arrays(num_frames=1, frame=[0], track_id=[3], boxes=[[0, 0, 2, 2]])
    assert format_motchallenge(tracks) == "1,3,1,1,2,2,1,-1,-1,-1\n"
    assert format_motchallenge(tracks, layout="mot16") == "1,3,1,1,2,2,1,-1,-1\n"


def test_separators_blank_lines_num_frames_and_confidence_filter() -> None:
    text = "1, 1, 10, 10, 5, 5, 1\n\n2\t1\t11 11 5 5 0 -1 -1 -1\n2,2,20,20,5,5,1,1,0.25\n"
    tracks = parse_motchallenge(text, source="gt.txt", num_frames=4)
    assert tracks.num_frames == 4 and tracks.frame.tolist() == [0, 1, 1]
    assert tracks.boxes[:, 0].tolist() == [9, 10, 19]
    considered = parse_motchallenge(text, source="gt.txt", layout="mot16", min_confidence=1)
    assert considered.num_frames == 2 and considered.track_id.tolist() == [1, 2]
    assert considered.visibility is not None and considered.visibility.tolist() == [-1, 0.25]


def test_an_empty_file_is_a_clip_without_detections(tmp_path: Path) -> None:
    (tmp_path / "none.txt").write_text("\n")
    tracks = read_motchallenge(tmp_path / "none.txt", num_frames=3)
    assert len(tracks) == 0 and tracks.num_frames == 3
    assert read_motchallenge(tmp_path / "none.txt").num_frames == 0


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("1,1,10,10,5,5\n", "line 1", "expected 7 to 10 values (frame,id,x,y,width,height,conf,x3d,y3d,z3d), got 6"),
        ("1,1,10,10,5,5,1,-1,-1,-1,0\n", "line 1", "got 11"),
        ("1,1,10,10,5,5,1\n1,a,10,10,5,5,1\n", "line 2", "id: expected a number, got 'a'"),
        ("1,1,10,,5,5,1\n", "line 1", "y: expected a number, got ''"),
        ("1,1,10,10,5,nan,1\n", "line 1", "height: expected a finite number"),
        ("0,1,10,10,5,5,1\n", "line 1", "frame: frames count from 1, got '0'"),
        ("1.5,1,10,10,5,5,1\n", "line 1", "frame: expected a whole number, got '1.5'"),
        ("1,2.5,10,10,5,5,1\n", "line 1", "id: expected a whole number"),
        ("1,1,10,10,-5,5,1\n", "line 1", "width: must be >= 0, got '-5'"),
        ("1,1,10,10,5,5,1\n\n1,1,12,10,5,5,1\n", "line 3", "frame 1, id 1 repeats line 1"),
        ("1,1,10,10,5,5,1\n9,1,10,10,5,5,1\n", "line 2", "frame 9 is past the clip's 5 frames"),
        ("1,1,10,10,5,5,1,1e20,-1,-1\n", "line 1", "x3d: expected a finite number below 2^53"),
    ],
)
def test_bad_lines_are_named(text: str, where: str, problem: str) -> None:
    with pytest.raises(UnreadableFile) as info:
        parse_motchallenge(text, source="gt.txt", num_frames=5)
    assert info.value.where == where and problem in info.value.problem
    assert str(info.value).startswith(f"gt.txt: {where}: ")


def test_unreadable_files_and_unknown_layouts(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        read_motchallenge(tmp_path / "missing.txt")
    with pytest.raises(UnreadableFile, match="is a directory"):
        read_motchallenge(tmp_path)
    (tmp_path / "latin1.txt").write_bytes(b"1,1,10,10,5,5,1 \xe9\n")
    with pytest.raises(UnreadableFile, match="not valid UTF-8 at byte 16"):
        read_motchallenge(tmp_path / "latin1.txt")
    with pytest.raises(InvalidInput, match="layout: unknown layout 'mot17'"):
        parse_motchallenge("", source="x", layout="mot17")  # type: ignore[arg-type]
