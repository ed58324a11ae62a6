"""Model runners: batching, per-frame failures, TorchScript loading, devices, versions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.exceptions import InvalidInput
from services.engine.frames import Frame
from services.engine.loading import export_torchscript, load_runner, load_torchscript, resolve_device
from services.engine.results import to_coco_results
from services.engine.run import run_frames
from services.engine.sources import open_source


@pytest.fixture(scope="module")
def detector():  # type: ignore[no-untyped-def]
    return load_runner("builtin:driving-detector")


@pytest.fixture(scope="module")
def frames() -> list[Frame]:
    return list(open_source("synthetic://driving?seed=5&n=12"))


def test_batched_and_single_frame_inference_agree(detector, frames: list[Frame]) -> None:  # type: ignore[no-untyped-def]
    batched = detector.infer(frames)
    single = [detector.infer([f])[0] for f in frames]
    for a, b in zip(batched, single, strict=True):
        assert a.frame_id == b.frame_id and len(a.boxes) == len(b.boxes)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
        assert a.confidence == pytest.approx(b.confidence, abs=1e-5)


def test_torchscript_export_gives_the_native_boxes(detector, frames: list[Frame], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = export_torchscript("driving-detector", tmp_path / "detector.pt")
    scripted = load_runner(str(path))
    assert scripted.spec == detector.spec
    native, generic = detector.infer(frames), scripted.infer(frames)
    assert sum(len(r.boxes) for r in native) > 20
    for a, b in zip(native, generic, strict=True):
        assert a.category_ids.tolist() == b.category_ids.tolist()
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-4)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)


def test_bad_frames_fail_alone_and_the_run_goes_on(detector, frames: list[Frame]) -> None:  # type: ignore[no-untyped-def]
    bad = [
        Frame(900, np.zeros((50, 60, 4), dtype=np.uint8)),  # four channels
        Frame(901, np.zeros((0, 10, 3), dtype=np.uint8)),  # empty
        Frame(902, np.zeros((50, 60, 3), dtype=np.float32)),  # not uint8
        Frame(903, None, "missing.png", error="missing.png: no such file"),
    ]
    mixed = [frames[0], *bad, frames[1]]
    report = run_frames(detector, mixed, batch_size=4)
    assert [r.frame_id for r in report.results] == [f.frame_id for f in mixed]
    assert [r.ok for r in report.results] == [True, False, False, False, False, True]
    assert "4 channel" in (report.results[1].error or "") or "channel" in (report.results[1].error or "")
    assert "missing.png: no such file" in (report.results[4].error or "")
    assert len(report.failed) == 4


def test_frames_of_another_size_are_resized_and_boxes_scaled_back(detector, frames: list[Frame]) -> None:  # type: ignore[no-untyped-def]
    image = frames[0].image
    assert image is not None
    big = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)
    small, large = detector.infer([frames[0], Frame(1, big)])
    assert len(large.boxes) == len(small.boxes)
    np.testing.assert_allclose(large.boxes, small.boxes * 2, atol=1.0)


def test_digits_need_their_exact_size() -> None:
    runner = load_runner("builtin:digits")
    result = runner.infer([Frame(1, np.zeros((16, 16, 1), dtype=np.uint8))])[0]
    assert not result.ok and "8x8" in (result.error or "")


def test_results_are_coco_results_the_comparator_reads(detector, frames: list[Frame]) -> None:  # type: ignore[no-untyped-def]
    source = open_source("synthetic://driving?seed=5&n=12")
    manual = parse_ground_truth(source.ground_truth(), "gt")
    automation = parse_automation(to_coco_results(detector.infer(frames)), "results", manual)
    assert len(automation.objects) > 0 and not np.isnan(automation.confidence).any()
    assert set(automation.model_version) == {detector.model_version}


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", "not a loadable TorchScript model"), (b"PK\x03\x04garbage", "not a loadable TorchScript model"),
     (b"not a model at all", "not a loadable TorchScript model")],
)
def test_corrupt_model_files_are_a_clear_input_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "broken.pt"
    path.write_bytes(content)
    export_torchscript("digits", tmp_path / "ok.pt")
    (tmp_path / "ok.json").rename(tmp_path / "broken.json")
    with pytest.raises(InvalidInput, match=problem):
        load_torchscript(path, resolve_device("cpu"))


def test_missing_spec_and_unknown_models_are_input_errors(tmp_path: Path) -> None:
    export_torchscript("digits", tmp_path / "m.pt")
    (tmp_path / "m.json").unlink()
    with pytest.raises(InvalidInput, match="spec"):
        load_runner(str(tmp_path / "m.pt"))
    with pytest.raises(InvalidInput, match="unknown builtin model"):
        load_runner("builtin:nope")
    with pytest.raises(InvalidInput, match="no such model file"):
        load_runner(str(tmp_path / "absent.pt"))


def test_cuda_without_a_gpu_is_refused_clearly() -> None:
    import torch

    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(InvalidInput, match="no usable CUDA device"):
            resolve_device("cuda")
    assert resolve_device("auto").type in ("cpu", "cuda")


def test_model_version_tracks_weights_and_spec(tmp_path: Path) -> None:
    a = export_torchscript("digits", tmp_path / "a.pt")
    first = load_runner(str(a)).model_version
    spec = (tmp_path / "a.json").read_text().replace('"temperature":', '"temperature":1.0,"_t":')
    (tmp_path / "b.pt").write_bytes(a.read_bytes())
    changed = (tmp_path / "a.json").read_text().replace('"score_threshold":0.3', '"score_threshold":0.31')
    (tmp_path / "b.json").write_text(changed)
    assert spec  # the spec file exists and is JSON text
    assert load_runner(str(tmp_path / "b.pt")).model_version != first
    assert load_runner(str(a)).model_version == first



@pytest.mark.parametrize("channels_last", [False, True])
def test_batches_are_the_normalised_pixels_of_read_only_frames(  # type: ignore[no-untyped-def]
    detector, frames: list[Frame], channels_last: bool,
) -> None:
    import torch

    from services.engine.preprocess import to_batch

    spec = detector.spec.input
    images = [f.image.copy() for f in frames[:3] if f.image is not None]
    for im in images:
        im.setflags(write=False)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    batch = to_batch(images, spec, torch.device("cpu"), fmt).tensor
    pixels = torch.tensor(np.stack(images), dtype=torch.float32).permute(0, 3, 1, 2)
    mean, std = torch.tensor(spec.mean).view(1, -1, 1, 1), torch.tensor(spec.std).view(1, -1, 1, 1)
    assert batch.is_contiguous(memory_format=fmt)
    assert torch.equal(batch, (pixels * spec.scale - mean) / std)
