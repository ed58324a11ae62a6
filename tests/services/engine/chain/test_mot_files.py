"""A run's MOTChallenge files: one per clip of every step with ids, read back equal to the step's tracks, and
derived (the content hash and a re-run from a step are what they were without them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from services.engine.chain.clip_tracks import ClipLayout, step_tracks
from services.engine.chain.data import NO_VIDEO
from services.engine.chain.manifest import read_manifest
from services.engine.chain.mot import MOT, clip_name, write_step_mot
from services.engine.chain.run import run_chain
from services.engine.chain.snapshot import content_hash, read_snapshot, to_arrays
from services.engine.chain.spec import PipelineSpec, parse_pipeline
from services.engine.chain.step import RunContext
from services.io.motchallenge import read_motchallenge
from tests.services.engine.chain.helpers import output, register_meta_detect, two_clips, unregister_meta_detect

SOURCE = "hand://frames"


def pipeline() -> PipelineSpec:
    return parse_pipeline({"name": "mot-chain", "steps": [
        {"name": "detect", "kind": "meta-detect"},
        {"name": "track", "kind": "track", "params": {"initialization_delay": 1}},
        {"name": "post", "kind": "postprocess", "params": {"min_track_length": 3, "max_gap": 3}},
    ]}, "test.yaml")


@pytest.fixture(scope="module", autouse=True)
def meta_detect() -> Iterator[None]:
    register_meta_detect()
    yield
    unregister_meta_detect()


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mot") / "full"
    run_chain(pipeline(), out, RunContext(two_clips()), source=SOURCE)
    return out


def mot_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / MOT).glob("*.txt"))}


def test_steps_with_ids_get_a_file_per_clip_and_the_detector_none(full: Path) -> None:
    assert not (full / "detect" / MOT).exists()
    for step in ("track", "post"):
        assert sorted(mot_files(full / step)) == ["0001.txt", "0002.txt"]


@pytest.mark.parametrize("step", ["track", "post"])
def test_the_files_read_back_equal_the_steps_tracks(full: Path, step: str) -> None:
    out = read_snapshot(full / step)
    clips = step_tracks(step, out, ClipLayout.of_frames(out.frames))
    assert list(clips) == [1, 2]
    for video, expected in clips.items():
        want = expected.tracks
        got = read_motchallenge(full / step / MOT / f"{clip_name(video)}.txt", num_frames=want.num_frames)
        assert len(got) == len(want) > 0
        for column in ("frame", "track_id", "boxes", "confidence"):
            assert np.array_equal(getattr(got, column), getattr(want, column)), column
        assert (got.track_id >= 0).all()  # boxes the tracker gave no id are not in a MOT result


def test_the_hashes_are_those_of_the_outputs_alone(full: Path) -> None:
    for record in read_manifest(full).steps:
        assert content_hash(to_arrays(read_snapshot(full / record.name))) == record.hash


def test_a_run_from_a_step_writes_the_same_files(full: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    run_chain(pipeline(), out, RunContext(None), from_step="post", snapshot=full)
    for step in ("track", "post"):
        assert mot_files(out / step) == mot_files(full / step)
    assert read_manifest(out).steps[-1].hash == read_manifest(full).steps[-1].hash


def test_a_rerun_into_the_same_folder_replaces_old_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_chain(pipeline(), out, RunContext(two_clips()), source=SOURCE)
    (out / "post" / MOT / "0099.txt").write_text("1,1,1,1,1,1,1,-1,-1,-1\n")
    run_chain(pipeline(), out, RunContext(two_clips()), source=SOURCE)
    assert sorted(mot_files(out / "post")) == ["0001.txt", "0002.txt"]


def test_frames_without_a_clip_are_one_sequence_and_no_ids_no_files(tmp_path: Path) -> None:
    boxes = [[(10.0, 10.0, 5.0, 5.0)], [(11.0, 10.0, 5.0, 5.0)]]
    assert write_step_mot(tmp_path / "a", "detect", output(boxes, video=NO_VIDEO)) == []
    written = write_step_mot(tmp_path / "b", "track", output(boxes, video=NO_VIDEO, tracks=[[7], [7]]))
    assert [p.name for p in written] == ["sequence.txt"]
    assert read_motchallenge(written[0]).track_id.tolist() == [7, 7]
