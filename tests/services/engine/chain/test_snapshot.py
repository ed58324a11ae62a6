"""Snapshots: lossless round trip, a content hash that sees every value but timings, COCO results beside."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from services.engine.chain.data import FrameInfo, StepOutput
from services.engine.chain.exceptions import SnapshotMismatch
from services.engine.chain.snapshot import (
    OUTPUT,
    coco_results,
    content_hash,
    read_snapshot,
    to_arrays,
    write_snapshot,
)
from services.engine.results import AutomationResult
from services.io.files import read_json


def awkward() -> StepOutput:
    """Values that a 2-decimal or float32 round trip would change."""
    boxes = np.array([[0.1 + 0.2, 1e-300, 123.456789012345678, 5e-324], [np.pi, np.e, 1 / 3, 2.0**52 + 1]])
    return StepOutput(
        (FrameInfo(7, -1, 0), FrameInfo(8, 3, 5), FrameInfo(9, 3, 6)),
        (AutomationResult(7, "detect@m@1", boxes=boxes, category_ids=np.array([1, 2**40]),
                          scores=np.array([0.123456789123, 1 - 1e-16]), track_ids=np.array([4, -1]),
                          confidence=float("nan"), inference_ms=3.25, tags={"time": "night"},
                          tag_scores={"time": 0.1 + 0.7}),
         AutomationResult(8, "detect@m@1", error="frame 8: unreadable"),
         AutomationResult(9, "detect@m@1", boxes=np.array([[1.0, 2.0, 3.0, 4.0]]), category_ids=np.array([3]),
                          scores=np.array([0.5]), confidence=0.25)),
        (np.array([False, True]), np.zeros(0, bool), np.array([False])),
    )


def assert_same(a: StepOutput, b: StepOutput) -> None:
    assert a.frames == b.frames
    for x, y, fx, fy in zip(a.results, b.results, a.interpolated, b.interpolated, strict=True):
        for name in ("boxes", "category_ids", "scores", "track_ids"):
            u, v = getattr(x, name), getattr(y, name)
            assert u.dtype == v.dtype and u.shape == v.shape and u.tobytes() == v.tobytes(), name
        assert fx.tolist() == fy.tolist()
        assert (x.frame_id, x.model_version, x.error, dict(x.tags), x.inference_ms) == \
               (y.frame_id, y.model_version, y.error, dict(y.tags), y.inference_ms)
        assert np.array(x.confidence).tobytes() == np.array(y.confidence).tobytes()  # nan stays nan
        assert {k: np.float64(v).tobytes() for k, v in x.tag_scores.items()} == \
               {k: np.float64(v).tobytes() for k, v in y.tag_scores.items()}


def test_a_snapshot_round_trip_is_bit_for_bit(tmp_path: Path) -> None:
    out = awkward()
    digest = write_snapshot(tmp_path / "step", out)
    back = read_snapshot(tmp_path / "step", digest)
    assert_same(out, back)
    assert content_hash(to_arrays(back)) == digest


def test_an_untracked_result_stays_untracked(tmp_path: Path) -> None:
    write_snapshot(tmp_path, awkward())
    back = read_snapshot(tmp_path)
    assert back.results[2].track_ids.shape == (0,) and back.results[0].track_ids.tolist() == [4, -1]


def test_the_hash_ignores_timings_and_sees_the_last_bit_of_a_box() -> None:
    out = awkward()
    digest = content_hash(to_arrays(out))
    timed = replace(out.results[0], inference_ms=99.0)
    assert content_hash(to_arrays(StepOutput(out.frames, (timed, *out.results[1:]), out.interpolated))) == digest
    boxes = out.results[0].boxes.copy()
    boxes[0, 2] = np.nextafter(boxes[0, 2], np.inf)
    nudged = replace(out.results[0], boxes=boxes)
    assert content_hash(to_arrays(StepOutput(out.frames, (nudged, *out.results[1:]), out.interpolated))) != digest


def test_a_snapshot_whose_content_changed_is_refused(tmp_path: Path) -> None:
    digest = write_snapshot(tmp_path, awkward())
    arrays = to_arrays(awkward())
    arrays["scores"] = arrays["scores"] + 1e-9
    np.savez(tmp_path / OUTPUT, **arrays)
    with pytest.raises(SnapshotMismatch, match=r"content hash .* is not the manifest's"):
        read_snapshot(tmp_path, digest)


@pytest.mark.parametrize(("content", "problem"), [
    (None, "no such snapshot file"), (b"not a zip", "not a readable snapshot"),
])
def test_a_missing_or_unreadable_snapshot_is_named(tmp_path: Path, content: bytes | None, problem: str) -> None:
    if content is not None:
        (tmp_path / OUTPUT).write_bytes(content)
    with pytest.raises(SnapshotMismatch, match=problem):
        read_snapshot(tmp_path)


def test_the_coco_results_beside_carry_track_ids_and_interpolation_flags(tmp_path: Path) -> None:
    write_snapshot(tmp_path, awkward())
    doc = read_json(tmp_path / "results.json")
    assert doc["annotations"] == coco_results(awkward())["annotations"]
    first, second, third = doc["annotations"]
    assert (first["track_id"], "interpolated" in first) == (4, False)
    assert ("track_id" in second, second["interpolated"]) == (False, True)
    assert "track_id" not in third and "interpolated" not in third
    assert first["bbox"] == [0.3, 0.0, 123.46, 0.0]  # rounded for people's tools; the .npz keeps every bit
    assert [i["id"] for i in doc["images"]] == [7, 8, 9] and doc["images"][1]["error"] == "frame 8: unreadable"
