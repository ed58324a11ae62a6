"""Frame sources: every kind of spec, frames that fail alone, and specs refused in one line."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from analysis.exceptions import InvalidInput
from services.datasets import digits, driving3d
from services.datasets.driving import render_frame
from services.engine.export import export_source
from services.engine.frames import Frame
from services.engine.preprocess import BadFrame, check_frame
from services.engine.sources import NumpySource, SyntheticDriving3dSource, SyntheticDrivingSource, open_source
from services.engine.spec import InputSpec

# --- synthetic://driving ---------------------------------------------------------------------------


def test_synthetic_frames_are_the_rendered_frames_in_order() -> None:
    source = open_source("synthetic://driving?seed=3&n=4")
    frames = list(source)
    assert source.name == "synthetic://driving?seed=3&n=4" and len(source) == 4
    assert [f.frame_id for f in frames] == [1, 2, 3, 4]
    assert [f.file_name for f in frames] == [f"frames/00000{i}.png" for i in range(1, 5)]
    for i, frame in enumerate(frames):
        rendered = render_frame(3, i)
        assert frame.ok and np.array_equal(frame.image, rendered.image)
        assert frame.meta["tags"] == rendered.labels.tags


def test_synthetic_defaults_are_seed_0_and_100_frames() -> None:
    source = open_source("synthetic://driving")
    assert len(source) == 100 and source.name == "synthetic://driving?seed=0&n=100"
    first = next(iter(source))
    assert first.image is not None and np.array_equal(first.image, render_frame(0, 0).image)


def test_synthetic_ground_truth_is_the_same_before_and_after_iterating() -> None:
    before = SyntheticDrivingSource(5, 6).ground_truth()
    source = SyntheticDrivingSource(5, 6)
    list(source)
    assert source.ground_truth() == before
    assert [image["id"] for image in before["images"]] == list(range(1, 7))


# --- synthetic://driving3d ------------------------------------------------------------------------


def test_driving3d_frames_are_the_swept_point_clouds_in_order() -> None:
    source = open_source("synthetic://driving3d?seed=3&n=3")
    frames = list(source)
    assert source.name == "synthetic://driving3d?seed=3&n=3" and len(source) == 3
    assert [f.frame_id for f in frames] == [1, 2, 3]
    assert [f.file_name for f in frames] == [f"frames/00000{i}.pcd" for i in range(1, 4)]
    for i, frame in enumerate(frames):
        swept = driving3d.render_frame(3, i)
        assert frame.ok and frame.image is None and frame.points is not None
        assert frame.points.tobytes() == swept.points.tobytes() and frame.meta["tags"] == swept.labels.tags


def test_driving3d_defaults_are_seed_0_and_100_frames() -> None:
    source = open_source("synthetic://driving3d")
    assert isinstance(source, SyntheticDriving3dSource)
    assert len(source) == 100 and source.name == "synthetic://driving3d?seed=0&n=100"


def test_driving3d_ground_truth_is_openlabel_and_the_same_before_and_after_iterating() -> None:
    before = SyntheticDriving3dSource(5, 3).ground_truth()
    source = SyntheticDriving3dSource(5, 3)
    list(source)
    assert source.ground_truth() == before
    assert before == driving3d.ground_truth([driving3d.label_frame(5, i) for i in range(3)], 5)
    assert sorted(int(f) for f in before["openlabel"]["frames"]) == [1, 2, 3]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("synthetic://driving3d?seed=1&k=2", "k: unknown parameter"),
        ("synthetic://driving3d?n=0", "n: expected an integer >= 1, got '0'"),
        ("synthetic://driving4d", "data set 'driving4d' (expected driving, driving3d or driving-seq)"),
    ],
)
def test_bad_driving3d_specs_are_named(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        open_source(spec)


def test_a_point_cloud_frame_is_a_bad_frame_for_an_image_model_not_a_crash() -> None:
    frame = next(iter(open_source("synthetic://driving3d?seed=0&n=1")))
    with pytest.raises(BadFrame, match="no pixels"):
        check_frame(frame, InputSpec(8, 8, 1), resize=True)
    assert Frame(1, None, points=np.zeros((0, 4), np.float32), error="x: unreadable").ok is False


# --- sklearn-digits:// -----------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "split"), [("sklearn-digits://", "test"), ("sklearn-digits://?split=test", "test"),
                                             ("sklearn-digits://?split=calibration", "calibration"),
                                             ("sklearn-digits://?split=train", "train"),
                                             ("sklearn-digits://?split=all", "all")])
def test_digits_frames_are_the_split(spec: str, split: str) -> None:
    source = open_source(spec)
    data = digits.load_split(split)
    frames = list(source)
    assert len(source) == len(frames) == len(data)
    assert [f.frame_id for f in frames] == data.ids.tolist()
    assert all(f.image is not None and f.image.shape == (8, 8, 1) for f in frames)
    assert np.array_equal(np.stack([f.image for f in frames if f.image is not None]), data.images)
    assert [f.meta["label"] for f in frames] == data.labels.tolist()
    gt = source.ground_truth()
    assert gt is not None and [image["id"] for image in gt["images"]] == data.ids.tolist()


def test_digits_n_keeps_the_first_frames() -> None:
    source = open_source("sklearn-digits://?split=train&n=7")
    assert [f.frame_id for f in source] == digits.load_split("train").ids[:7].tolist()
    gt = source.ground_truth()
    assert gt is not None and len(gt["images"]) == 7


def test_a_second_camera_shifts_its_share_of_the_frames_one_pixel_down() -> None:
    plain = {f.frame_id: f for f in open_source("sklearn-digits://?split=all")}
    mixed = list(open_source("sklearn-digits://?split=all&second_camera=0.3"))
    cameras = [f.meta["tags"]["camera"] for f in mixed]
    assert set(cameras) == {"a", "b"}
    assert cameras.count("b") == pytest.approx(0.3 * len(mixed), abs=4 * np.sqrt(0.21 * len(mixed)))
    for frame in mixed:
        image = plain[frame.frame_id].image
        assert image is not None and frame.image is not None
        if frame.meta["tags"]["camera"] == "a":
            assert np.array_equal(frame.image, image)
        else:
            assert np.array_equal(frame.image[1:], image[:-1]) and not frame.image[0].any()
        assert frame.meta["tags"]["digit"] == plain[frame.frame_id].meta["tags"]["digit"]
    test = {f.frame_id: f.meta["tags"]["camera"] for f in open_source("sklearn-digits://?split=test&second_camera=0.3")}
    assert test == {f.frame_id: f.meta["tags"]["camera"] for f in mixed if f.frame_id in test}  # per frame id


def test_without_a_second_camera_frames_have_no_camera_tag() -> None:
    assert "camera" not in next(iter(open_source("sklearn-digits://?split=test&second_camera=0"))).meta["tags"]


# --- COCO JSON files -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five synthetic frames exported as PNG files with their annotations.json."""
    out = tmp_path_factory.mktemp("exported")
    export_source(SyntheticDrivingSource(7, 5), out)
    return out


@pytest.fixture
def copy_of(exported: Path, tmp_path: Path) -> Path:
    shutil.copytree(exported, tmp_path / "data")
    return tmp_path / "data"


def test_exported_pngs_read_back_equal_the_synthetic_frames_bit_for_bit(exported: Path) -> None:
    source = open_source(str(exported / "annotations.json"))
    synthetic = SyntheticDrivingSource(7, 5)
    assert len(source) == 5
    for frame, original in zip(source, synthetic, strict=True):
        assert frame.ok and frame.image is not None and original.image is not None
        assert frame.frame_id == original.frame_id and frame.file_name == original.file_name
        assert frame.image.dtype == np.uint8 and np.array_equal(frame.image, original.image)
    assert source.ground_truth() == synthetic.ground_truth()


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:300])


def _garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[100:2000] = bytes(1900)
    path.write_bytes(bytes(data))


BREAKAGES: list[tuple[str, Callable[[Path], None], str]] = [
    ("missing", lambda p: p.unlink(), "no such file"),
    ("text named .png", lambda p: p.write_text("not a picture\n"), "not an image file"),
    ("empty", lambda p: p.write_bytes(b""), "not an image file"),
    ("truncated PNG", _truncate, "corrupt or truncated image"),
    ("garbled PNG", _garble, "corrupt or truncated image"),
    ("directory", lambda p: (p.unlink(), p.mkdir()), "is a directory"),
]


@pytest.mark.parametrize(("breaks", "reason"), [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_a_broken_image_file_gives_a_failed_frame_and_the_others_load(
    copy_of: Path, breaks: Callable[[Path], None], reason: str
) -> None:
    broken = copy_of / "frames" / "000002.png"
    breaks(broken)
    frames = list(open_source(str(copy_of / "annotations.json")))
    assert [f.frame_id for f in frames] == [1, 2, 3, 4, 5]
    bad = frames[1]
    assert bad.image is None and not bad.ok and bad.file_name == "frames/000002.png"
    assert bad.error is not None and bad.error.startswith(f"{broken}: ") and reason in bad.error
    assert "\n" not in bad.error
    assert all(f.ok for i, f in enumerate(frames) if i != 1)


def test_image_paths_may_be_absolute_and_greyscale_becomes_rgb(tmp_path: Path) -> None:
    export_source(open_source("sklearn-digits://?split=test&n=3"), tmp_path / "digits_out")
    doc = json.loads((tmp_path / "digits_out" / "annotations.json").read_text())
    for image in doc["images"]:
        image["file_name"] = str(tmp_path / "digits_out" / image["file_name"])
    elsewhere = tmp_path / "elsewhere" / "gt.json"
    elsewhere.parent.mkdir()
    elsewhere.write_text(json.dumps(doc))
    frames = list(open_source(str(elsewhere)))
    expected = digits.load_split("test").images[:3]
    for frame, pixels in zip(frames, expected, strict=True):
        assert frame.image is not None and frame.image.shape == (8, 8, 3)
        assert np.array_equal(frame.image, np.repeat(pixels, 3, axis=2))


def test_a_file_listing_images_only_has_no_ground_truth(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png"}]}))
    source = open_source(str(path))
    assert len(source) == 1 and source.ground_truth() is None
    (frame,) = list(source)
    assert frame.error is not None and "no such file" in frame.error


# --- .npz files and arrays in memory ---------------------------------------------------------------


def test_npz_round_trip_with_ids(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(3, 6, 5, 3), dtype=np.uint8)
    np.savez(tmp_path / "frames.npz", images=images, ids=np.array([30, 10, 20]))
    frames = list(open_source(str(tmp_path / "frames.npz")))
    assert [f.frame_id for f in frames] == [30, 10, 20]
    assert all(f.image is not None and np.array_equal(f.image, images[i]) for i, f in enumerate(frames))


def test_npz_greyscale_stack_without_ids(tmp_path: Path) -> None:
    images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    np.savez_compressed(tmp_path / "grey.npz", images=images)
    source = open_source(str(tmp_path / "grey.npz"))
    frames = list(source)
    assert [f.frame_id for f in frames] == [1, 2] and source.ground_truth() is None
    assert all(f.image is not None and np.array_equal(f.image, images[i][..., None]) for i, f in enumerate(frames))


def test_numpy_source_takes_a_list_of_differently_sized_images() -> None:
    images = [np.zeros((4, 4, 3), np.uint8), np.ones((2, 7), np.uint8), np.full((3, 3, 1), 9, np.uint8)]
    source = NumpySource(images, name="mine")
    frames = list(source)
    assert source.name == "mine" and len(source) == 3 and [f.frame_id for f in frames] == [1, 2, 3]
    assert [f.image.shape for f in frames if f.image is not None] == [(4, 4, 3), (2, 7, 1), (3, 3, 1)]
    assert list(source) is not frames and len(list(source)) == 3  # re-iterable


def test_numpy_source_takes_one_4d_array() -> None:
    images = np.zeros((5, 3, 3, 3), np.uint8)
    assert [f.frame_id for f in NumpySource(images, ids=np.arange(5) + 100)] == list(range(100, 105))


@pytest.mark.parametrize(
    ("images", "ids", "message"),
    [
        (np.zeros((2, 3, 3, 3), np.float32), None, "images: expected uint8 pixels, got float32"),
        (np.zeros((2, 3, 3, 3, 1), np.uint8), None, "images: expected shape (N, H, W) or (N, H, W, C)"),
        ([np.zeros((3, 3, 2), np.uint8)], None, "images[0]: expected a uint8 (H, W), (H, W, 1) or (H, W, 3)"),
        ([np.zeros((3, 3, 3), np.uint8), np.zeros((3, 3), np.int64)], None, "images[1]: expected a uint8"),
        (np.zeros((2, 3, 3), np.uint8), [1, 1], "ids: frame ids must be unique"),
        (np.zeros((2, 3, 3), np.uint8), [1, 2, 3], "ids: expected 2 integers"),
        (np.zeros((2, 3, 3), np.uint8), [1.5, 2.5], "ids: expected 2 integers"),
    ],
)
def test_numpy_source_refuses_bad_arrays(images: object, ids: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        NumpySource(images, ids, name="arrays")  # type: ignore[arg-type]
    assert str(caught.value).startswith("arrays: ") and message in str(caught.value)


# --- specs that cannot be opened -------------------------------------------------------------------


def _write(tmp_path: Path, name: str, content: bytes) -> str:
    (tmp_path / name).write_bytes(content)
    return str(tmp_path / name)


def _npz(tmp_path: Path, name: str, **arrays: np.ndarray) -> str:
    np.savez(tmp_path / name, **arrays)  # type: ignore[arg-type]
    return str(tmp_path / name)


BAD_SPECS: list[tuple[str, Callable[[Path], str], str]] = [
    ("unknown scheme", lambda _: "ftp://example.com/x.json", "unknown scheme 'ftp://'"),
    ("unknown data set", lambda _: "synthetic://roads", "unknown synthetic data set 'roads'"),
    ("negative seed", lambda _: "synthetic://driving?seed=-1", "seed: expected an integer >= 0, got '-1'"),
    ("seed not a number", lambda _: "synthetic://driving?seed=abc", "seed: expected an integer >= 0"),
    ("seed without value", lambda _: "synthetic://driving?seed=", "seed: expected an integer >= 0, got ''"),
    ("malformed query", lambda _: "synthetic://driving?seed", "malformed query 'seed' (expected key=value&...)"),
    ("no frames", lambda _: "synthetic://driving?n=0", "n: expected an integer >= 1, got '0'"),
    ("unknown parameter", lambda _: "synthetic://driving?frames=3", "frames: unknown parameter (expected seed, n)"),
    ("repeated parameter", lambda _: "synthetic://driving?seed=1&seed=2", "seed: given more than once"),
    ("unknown split", lambda _: "sklearn-digits://?split=dev", "split: unknown split 'dev'"),
    ("digits with a host", lambda _: "sklearn-digits://mnist", "unexpected 'mnist'"),
    ("second camera over 1", lambda _: "sklearn-digits://?second_camera=1.5",
     "second_camera: expected a share in [0, 1], got '1.5'"),
    ("second camera not a number", lambda _: "sklearn-digits://?second_camera=most",
     "second_camera: expected a share in [0, 1], got 'most'"),
    ("second camera nan", lambda _: "sklearn-digits://?second_camera=nan",
     "second_camera: expected a share in [0, 1], got 'nan'"),
    ("missing JSON", lambda p: str(p / "nope.json"), "nope.json: no such file"),
    ("missing npz", lambda p: str(p / "nope.npz"), "nope.npz: no such file"),
    ("other extension", lambda p: str(p / "frames.txt"), "not a known frame source"),
    ("invalid JSON", lambda p: _write(p, "bad.json", b"{images: 1"), "invalid JSON"),
    ("JSON without images", lambda p: _write(p, "noimg.json", b'{"annotations": []}'), "missing required field"),
    ("image id not integer", lambda p: _write(p, "id.json", b'{"images": [{"id": "a", "file_name": "x.png"}]}'),
     "images[0].id: expected an integer"),
    ("duplicate image id", lambda p: _write(p, "dup.json", b'{"images": [{"id": 1, "file_name": "a.png"}, '
                                                            b'{"id": 1, "file_name": "b.png"}]}'),
     "images[1].id: duplicate image id 1"),
    ("npz not an archive", lambda p: _write(p, "text.npz", b"hello"), "not a readable .npz archive"),
    ("npz without images", lambda p: _npz(p, "other.npz", frames=np.zeros((1, 2, 2), np.uint8)),
     "no 'images' array (found frames)"),
    ("npz float images", lambda p: _npz(p, "float.npz", images=np.zeros((1, 2, 2), np.float64)),
     "images: expected uint8 pixels, got float64"),
    ("npz ids of the wrong length", lambda p: _npz(p, "ids.npz", images=np.zeros((2, 2, 2), np.uint8), ids=[1]),
     "ids: expected 2 integers"),
]


@pytest.mark.parametrize(("make", "message"), [b[1:] for b in BAD_SPECS], ids=[b[0] for b in BAD_SPECS])
def test_bad_specs_raise_invalid_input_in_one_line(tmp_path: Path, make: Callable[[Path], str], message: str) -> None:
    spec = make(tmp_path)
    with pytest.raises(InvalidInput) as caught:
        open_source(spec)
    text = str(caught.value)
    assert "\n" not in text and text.startswith(spec) and message in text
