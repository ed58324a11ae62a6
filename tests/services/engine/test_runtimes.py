"""Runtimes: ONNX Runtime on the CPU by default, torch on a GPU, the same boxes within tolerance under both."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.exceptions import InvalidInput
from services.engine import onnx_runtime
from services.engine.exceptions import RuntimeUnavailable
from services.engine.frames import Frame
from services.engine.loading import export_torchscript, load_runner
from services.engine.results import AutomationResult
from services.engine.runner import TorchRunner
from services.engine.runtimes import choose_runtime
from services.engine.sources import open_source

BOX_PX, SCORE = 1e-2, 1e-4  # the tolerance benchmarks/inference.py states


@pytest.fixture(scope="module")
def frames() -> list[Frame]:
    return list(open_source("synthetic://driving?seed=11&n=8"))


@pytest.fixture(scope="module")
def torch_runner() -> TorchRunner:
    return load_runner("builtin:driving-detector", runtime="torch")


@pytest.mark.parametrize(
    ("requested", "device", "installed", "chosen"),
    [("auto", "cpu", True, "onnxruntime"), ("auto", "cpu", False, "torch"), ("auto", "cuda", True, "torch"),
     ("torch", "cpu", True, "torch"), ("torch", "cuda", False, "torch"), ("onnxruntime", "cpu", True, "onnxruntime")],
)
def test_the_runtime_for_a_device(requested: str, device: str, installed: bool, chosen: str) -> None:
    assert choose_runtime(requested, device, onnxruntime_installed=installed) == chosen


@pytest.mark.parametrize(
    ("requested", "device", "installed", "error", "message"),
    [("onnxruntime", "cpu", False, RuntimeUnavailable, "pip install 'onnxruntime"),
     ("onnxruntime", "cuda", True, InvalidInput, "not on cuda"), ("tvm", "cpu", True, InvalidInput, "unknown runtime")],
)
def test_runtimes_that_cannot_run_are_clear_errors(
    requested: str, device: str, installed: bool, error: type[Exception], message: str,
) -> None:
    with pytest.raises(error, match=message):
        choose_runtime(requested, device, onnxruntime_installed=installed)


def assert_same_boxes(a: list[AutomationResult], b: list[AutomationResult]) -> None:
    assert sum(len(r.boxes) for r in a) >= len(a)  # detections to compare, not empty frames
    for x, y in zip(a, b, strict=True):
        assert x.frame_id == y.frame_id and x.category_ids.tolist() == y.category_ids.tolist()
        np.testing.assert_allclose(x.boxes, y.boxes, atol=BOX_PX)
        np.testing.assert_allclose(x.scores, y.scores, atol=SCORE)
        assert x.confidence == pytest.approx(y.confidence, abs=SCORE)


def test_builtin_models_run_under_onnxruntime_on_the_cpu_with_torchs_boxes(
    torch_runner: TorchRunner, frames: list[Frame],
) -> None:
    ort = load_runner("builtin:driving-detector")
    assert (ort.runtime, torch_runner.runtime) == ("onnxruntime", "torch")
    assert ort.model_version == torch_runner.model_version
    assert_same_boxes(ort.infer(frames), torch_runner.infer(frames))
    assert_same_boxes(ort.infer(frames[:1]), torch_runner.infer(frames[:1]))  # the batch axis is dynamic


def test_export_writes_the_onnx_model_the_loader_uses(
    torch_runner: TorchRunner, frames: list[Frame], tmp_path: Path,
) -> None:
    path = export_torchscript("driving-detector", tmp_path / "detector.pt")
    metadata = onnx_runtime.OrtModule(path.with_suffix(".onnx").read_bytes()).metadata
    assert metadata[onnx_runtime.SOURCE_KEY] == onnx_runtime.sha256(path.read_bytes())
    runner = load_runner(str(path))
    assert runner.runtime == "onnxruntime"
    assert runner.model_version == load_runner(str(path), runtime="torch").model_version
    assert_same_boxes(runner.infer(frames), torch_runner.infer(frames))


def test_an_onnx_file_from_other_weights_is_ignored(torch_runner: TorchRunner, frames: list[Frame],
                                                     tmp_path: Path) -> None:
    path = export_torchscript("driving-detector", tmp_path / "detector.pt")
    other = export_torchscript("digits", tmp_path / "digits.pt")
    path.with_suffix(".onnx").write_bytes(other.with_suffix(".onnx").read_bytes())
    runner = load_runner(str(path))
    assert runner.runtime == "onnxruntime"
    assert_same_boxes(runner.infer(frames), torch_runner.infer(frames))


def test_without_onnxruntime_the_cpu_default_is_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_runtime, "installed", lambda: False)
    assert load_runner("builtin:digits").runtime == "torch"
    with pytest.raises(RuntimeUnavailable, match="onnxruntime is not installed"):
        load_runner("builtin:digits", runtime="onnxruntime")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # installed, but broken
    with pytest.raises(RuntimeUnavailable, match="pip install"):
        onnx_runtime.OrtModule(b"")


def test_a_model_onnxruntime_cannot_take_falls_back_to_torch_unless_asked_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    path = export_torchscript("digits", tmp_path / "digits.pt")
    path.with_suffix(".onnx").unlink()

    def refuse(*_: object, **__: object) -> bytes:
        raise RuntimeError("an operator ONNX lacks")

    monkeypatch.setattr(onnx_runtime, "export_onnx", refuse)
    assert load_runner(str(path)).runtime == "torch"
    with pytest.raises(RuntimeUnavailable, match="an operator ONNX lacks"):
        load_runner(str(path), runtime="onnxruntime")
