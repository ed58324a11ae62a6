"""Running a chain, and running it again from a step: the downstream output is the full chain's, bit for bit."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.exceptions import InvalidInput
from services.engine.chain.exceptions import SnapshotMismatch
from services.engine.chain.manifest import read_manifest
from services.engine.chain.run import run_chain
from services.engine.chain.snapshot import OUTPUT
from services.engine.chain.spec import PipelineSpec, parse_pipeline
from services.engine.chain.step import RunContext
from tests.services.engine.chain.helpers import MetaDetect, register_meta_detect, two_clips, unregister_meta_detect


@pytest.fixture(scope="module", autouse=True)
def meta_detect() -> Iterator[None]:
    register_meta_detect()
    yield
    unregister_meta_detect()


def pipeline(detect: dict[str, Any] | None = None, track: dict[str, Any] | None = None) -> PipelineSpec:
    return parse_pipeline({"name": "test-chain", "steps": [
        {"name": "detect", "kind": "meta-detect", "params": detect or {}},
        {"name": "track", "kind": "track", "params": track or {"initialization_delay": 1}},
        {"name": "post", "kind": "postprocess", "params": {"min_track_length": 3, "max_gap": 3}},
    ]}, "test.yaml")


SOURCE = "hand://frames"


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chain") / "full"
    run_chain(pipeline(), out, RunContext(two_clips()), source=SOURCE)
    return out


def npz(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / OUTPUT) as data:
        return {k: data[k] for k in data.files}


def assert_bit_identical(a: Path, b: Path) -> None:
    x, y = npz(a), npz(b)
    assert sorted(x) == sorted(y)
    for name in x:
        assert x[name].dtype == y[name].dtype and x[name].tobytes() == y[name].tobytes(), name


def test_a_full_run_writes_every_step_and_a_manifest(full: Path) -> None:
    manifest = read_manifest(full)
    assert [s.name for s in manifest.steps] == ["detect", "track", "post"]
    assert all(s.ran and s.frames == 24 and s.hash.startswith("sha256:") for s in manifest.steps)
    assert all((full / s.name / OUTPUT).is_file() and (full / s.name / "results.json").is_file()
               for s in manifest.steps)
    track, post = manifest.steps[1], manifest.steps[2]
    assert manifest.model_version == (f"detect@meta-boxes-1+track@{track.version}+post@{post.version}")
    assert (manifest.source, manifest.frames, manifest.pipeline["name"]) == (SOURCE, 24, "test-chain")
    assert track.counts["tracks"] == 4 and post.counts["interpolated_boxes"] == 2  # clip 1's gap of two frames


def test_each_snapshot_carries_the_chain_version_up_to_its_step(full: Path) -> None:
    version = read_manifest(full).model_version
    prefixes = ["+".join(version.split("+")[:i]) for i in (1, 2, 3)]
    assert [set(npz(full / step)["model_version"].tolist()) for step in ("detect", "track", "post")] == \
           [{p} for p in prefixes]


@pytest.mark.parametrize("step", ["track", "post"])
def test_a_run_from_a_step_equals_the_full_chain_bit_for_bit(full: Path, tmp_path: Path, step: str) -> None:
    runs = MetaDetect.runs
    report = run_chain(pipeline(), tmp_path / "again", RunContext(), from_step=step, snapshot=full)
    assert MetaDetect.runs == runs  # the detector did not run again
    before, after = read_manifest(full), report.manifest
    assert [s.hash for s in after.steps] == [s.hash for s in before.steps]
    assert after.model_version == before.model_version and after.from_step == step
    assert [s.ran for s in after.steps] == [s.name in ("track", "post")[("track", "post").index(step):]
                                            for s in after.steps]
    for name in ("track", "post")[("track", "post").index(step):]:
        assert_bit_identical(full / name, tmp_path / "again" / name)


def test_the_output_of_a_run_from_a_step_feeds_a_later_one(full: Path, tmp_path: Path) -> None:
    run_chain(pipeline(), tmp_path / "a", RunContext(), from_step="post", snapshot=full)
    run_chain(pipeline(), tmp_path / "b", RunContext(), from_step="post", snapshot=tmp_path / "a")
    assert_bit_identical(full / "post", tmp_path / "b" / "post")


def test_a_step_can_be_run_again_in_place(full: Path, tmp_path: Path) -> None:
    here = tmp_path / "here"
    shutil.copytree(full, here)
    run_chain(pipeline(track={"initialization_delay": 0}), here, RunContext(), from_step="track", snapshot=here)
    assert read_manifest(here).steps[1].version != read_manifest(full).steps[1].version
    assert_bit_identical(full / "detect", here / "detect")


def test_changing_the_step_run_again_is_allowed_and_changes_its_version(full: Path, tmp_path: Path) -> None:
    report = run_chain(pipeline(track={"initialization_delay": 0}), tmp_path / "x", RunContext(), from_step="track",
                       snapshot=full)
    assert report.manifest.steps[0].hash == read_manifest(full).steps[0].hash
    assert report.manifest.model_version != read_manifest(full).model_version


@pytest.mark.parametrize(("kwargs", "where", "problem"), [
    ({"detect": {"score": 0.5}}, "detect", "the snapshot's step is"),
    ({"source": "hand://other"}, "source", "the snapshot was made from 'hand://frames'"),
])
def test_a_snapshot_of_other_earlier_steps_or_frames_is_refused(full: Path, tmp_path: Path, kwargs: dict[str, Any],
                                                                where: str, problem: str) -> None:
    spec = pipeline(detect=kwargs.pop("detect", None))
    with pytest.raises(SnapshotMismatch) as caught:
        run_chain(spec, tmp_path / "x", RunContext(), from_step="track", snapshot=full, **kwargs)
    assert caught.value.source.endswith("manifest.json") and caught.value.where == where
    assert problem in caught.value.problem


def test_a_snapshot_of_another_version_is_refused(full: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MetaDetect, "version", lambda self: "meta-boxes-2")
    with pytest.raises(SnapshotMismatch, match="made by version meta-boxes-1, the pipeline's is meta-boxes-2"):
        run_chain(pipeline(), tmp_path / "x", RunContext(), from_step="post", snapshot=full)


def test_a_changed_snapshot_is_refused(full: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(full, broken)
    arrays = npz(broken / "track")
    arrays["track_ids"][0] = 99
    np.savez(broken / "track" / OUTPUT, **arrays)
    with pytest.raises(SnapshotMismatch, match="content hash"):
        run_chain(pipeline(), tmp_path / "x", RunContext(), from_step="post", snapshot=broken)


def test_from_step_needs_a_snapshot_with_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="needs --snapshot"):
        run_chain(pipeline(), tmp_path / "x", RunContext(), from_step="track")
    with pytest.raises(SnapshotMismatch, match="no manifest"):
        run_chain(pipeline(), tmp_path / "x", RunContext(), from_step="track", snapshot=tmp_path)
    with pytest.raises(InvalidInput, match="no step named 'trak'"):
        run_chain(pipeline(), tmp_path / "x", RunContext(), from_step="trak", snapshot=tmp_path)


def test_a_full_run_needs_frames(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="needs frames"):
        run_chain(pipeline(), tmp_path / "x", RunContext())


def test_two_full_runs_give_the_same_hashes(full: Path, tmp_path: Path) -> None:
    report = run_chain(pipeline(), tmp_path / "second", RunContext(two_clips()), source=SOURCE)
    assert [s.hash for s in report.manifest.steps] == [s.hash for s in read_manifest(full).steps]
