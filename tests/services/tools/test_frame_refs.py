"""Frame references resolve to the frames and ground truth of their sources, and bad ones are named.

(Tests of ``services/engine/frame_refs.py``; kept beside the tools that feed and annotate by reference.)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.exceptions import InvalidInput
from services.datasets import digits
from services.datasets.driving3d import CATEGORIES, TIME_OF_DAY, WEATHER
from services.datasets.driving3d.records import categories
from services.engine.frame_refs import (
    DigitsRef,
    Driving3dRef,
    FileRef,
    SyntheticRef,
    digits_ref,
    driving3d_ref,
    file_ref,
    frame_truth,
    parse_ref,
    resolve_frame,
    synthetic_ref,
)
from services.engine.sources import DigitsSource, open_source
from services.replay.truth import truth_document


@pytest.mark.parametrize(("seed", "index"), [(0, 0), (2, 5), (7, 11)])
def test_a_synthetic_ref_is_the_source_frame_bit_for_bit(seed: int, index: int) -> None:
    expected = list(open_source(f"synthetic://driving?seed={seed}&n={index + 1}"))[index]
    frame = resolve_frame(synthetic_ref(seed, index))
    assert frame.ok and frame.image is not None and expected.image is not None
    assert frame.image.dtype == expected.image.dtype and np.array_equal(frame.image, expected.image)
    assert (frame.frame_id, frame.file_name, dict(frame.meta)) == (expected.frame_id, expected.file_name,
                                                                    dict(expected.meta))


def test_a_synthetic_ref_truth_is_the_source_ground_truth_of_that_frame() -> None:
    truth_doc = open_source("synthetic://driving?seed=4&n=12").ground_truth()
    assert truth_doc is not None
    for index in range(12):
        truth = frame_truth(synthetic_ref(4, index))
        assert truth.image == truth_doc["images"][index]
        assert truth.objects == [a for a in truth_doc["annotations"] if a["image_id"] == index + 1]
        assert truth.categories == truth_doc["categories"]
        assert truth.tags == truth_doc["images"][index]["tags"]


def test_a_digits_ref_is_the_source_frame_and_its_label() -> None:
    frame_id = int(digits.load_split("test").ids[3])
    expected = next(f for f in DigitsSource("test") if f.frame_id == frame_id)
    frame = resolve_frame(digits_ref(frame_id))
    assert frame.image is not None and expected.image is not None and np.array_equal(frame.image, expected.image)
    assert frame.frame_id == frame_id and dict(frame.meta) == dict(expected.meta)
    truth = frame_truth(digits_ref(frame_id))
    assert truth.objects == [] and truth.tags == expected.meta["tags"]
    assert truth.image == next(i for i in digits.ground_truth("test")["images"] if i["id"] == frame_id)


def test_a_file_ref_reads_the_png(tmp_path: Path) -> None:
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    path = tmp_path / "a frame.png"
    Image.fromarray(pixels).save(path)
    ref = file_ref(path)
    assert ref.startswith("file:///") and "%20" in ref
    frame = resolve_frame(ref, frame_id=17)
    assert frame.ok and frame.frame_id == 17 and frame.image is not None and np.array_equal(frame.image, pixels)


def test_an_unreadable_file_fails_that_frame_only(tmp_path: Path) -> None:
    frame = resolve_frame(file_ref(tmp_path / "missing.png"), frame_id=3)
    assert not frame.ok and frame.error is not None and "no such file" in frame.error


def test_image_files_have_no_known_truth(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no ground truth is known for image files"):
        frame_truth(file_ref(tmp_path / "a.png"))


@pytest.mark.parametrize(("ref", "parsed"), [
    ("synthetic://driving?seed=3#14", SyntheticRef(3, 14)),
    ("sklearn-digits://#1797", DigitsRef(1797)),
    ("file:///data/frames/1.png", FileRef(Path("/data/frames/1.png"))),
    ("file://localhost/data/x.png", FileRef(Path("/data/x.png"))),
])
def test_references_parse(ref: str, parsed: object) -> None:
    assert parse_ref(ref) == parsed


@pytest.mark.parametrize(("ref", "message"), [
    ("frames/1.png", "frames/1.png: not a frame reference"),
    ("http://x/1.png", "http://x/1.png: not a frame reference"),
    ("synthetic://city?seed=1#2", "unknown synthetic data set 'city'"),
    ("synthetic://driving?seed=1", "synthetic://driving?seed=1: frame: expected an integer >= 0, got nothing"),
    ("synthetic://driving#4", "synthetic://driving#4: seed: missing"),
    ("synthetic://driving?seed=x#4", "seed: expected an integer >= 0, got 'x'"),
    ("synthetic://driving?seed=1&n=5#4", "n: unknown parameter"),
    ("synthetic://driving?seed=1#-4", "frame: expected an integer >= 0, got '-4'"),
    ("sklearn-digits://#0", "sklearn-digits://#0: frame: no digit 0 (ids run from 1 to 1797)"),
    ("sklearn-digits://#1798", "no digit 1798"),
    ("sklearn-digits://?split=test#3", "expected sklearn-digits://#ID"),
    ("file://relative/a.png", "expected an absolute path"),
])
def test_bad_references_are_named(ref: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)) as e:
        resolve_frame(ref)
    assert str(e.value).startswith(ref)


# --- synthetic://driving3d: point clouds -------------------------------------------------------------


@pytest.mark.parametrize(("seed", "index"), [(0, 0), (2, 5)])
def test_a_driving3d_ref_is_the_source_point_cloud_bit_for_bit(seed: int, index: int) -> None:
    expected = list(open_source(f"synthetic://driving3d?seed={seed}&n={index + 1}"))[index]
    frame = resolve_frame(driving3d_ref(seed, index))
    assert frame.ok and frame.image is None and frame.points is not None and expected.points is not None
    assert frame.points.tobytes() == expected.points.tobytes()
    assert (frame.frame_id, frame.file_name) == (expected.frame_id, expected.file_name)
    assert dict(frame.meta) == dict(expected.meta)
    assert resolve_frame(driving3d_ref(seed, index), frame_id=99).frame_id == 99


def test_a_driving3d_ref_parses_and_its_truth_is_the_sources_cuboids() -> None:
    """The truth of a point-cloud frame is the cuboids of its source's OpenLABEL ground truth, as tagged geometry
    with their point counts; the tags and categories are the data set's."""
    assert parse_ref("synthetic://driving3d?seed=3#14") == Driving3dRef(3, 14)
    source = open_source("synthetic://driving3d?seed=3&n=15")
    doc = source.ground_truth()
    assert doc is not None
    expected = truth_document(doc, source.name, categories())
    truth = frame_truth(driving3d_ref(3, 14))
    assert truth.image["id"] == 15 and truth.tags == expected["images"][14]["tags"]
    assert [{k: o[k] for k in ("category_id", "geometry", "attributes")} for o in truth.objects] == [
        {k: a[k] for k in ("category_id", "geometry", "attributes")} for a in expected["annotations"]
        if a["image_id"] == 15]
    assert truth.objects and all(o["geometry"]["type"] == "cuboid3d" for o in truth.objects)
    assert [c["name"] for c in truth.categories] == list(CATEGORIES)
    assert truth.tag_values == {"weather": list(WEATHER), "time_of_day": list(TIME_OF_DAY)}


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("synthetic://driving3d#4", "synthetic://driving3d#4: seed: missing (expected synthetic://driving3d?seed=S#I)"),
        ("synthetic://driving3d?seed=1&n=5#4", "n: unknown parameter"),
        ("synthetic://driving3d?seed=1", "frame: expected an integer >= 0, got nothing"),
    ],
)
def test_bad_driving3d_references_are_named(ref: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        resolve_frame(ref)
