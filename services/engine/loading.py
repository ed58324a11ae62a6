"""Model loaders: the project's reference models by name, or any TorchScript file with a spec.

On the CPU a model runs under ONNX Runtime by default (``runtime="auto"``): a builtin
model is exported to ONNX when it loads; a TorchScript file uses the ``.onnx`` that
``shadowqa engine export`` writes beside it, or is exported when it loads. torch runs
it on a GPU, or when asked (``runtime="torch"``). The model version names the weights
and the spec only, so it is the same under either runtime.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from analysis.exceptions import InvalidInput
from services.engine import onnx_runtime
from services.engine.exceptions import RuntimeUnavailable
from services.engine.models.bev_detector import BevCenterNet
from services.engine.models.detector import TinyCenterNet
from services.engine.models.digits import DigitsNet
from services.engine.optimize import for_inference
from services.engine.runner import TorchRunner
from services.engine.runtimes import choose_runtime
from services.engine.spec import ModelSpec, load_spec, model_version

WEIGHTS = Path(__file__).resolve().parent / "weights"
BUILTIN: dict[str, Callable[[], nn.Module]] = {"driving-detector": TinyCenterNet, "digits": DigitsNet,
                                               "driving3d-detector": BevCenterNet}
log = logging.getLogger(__name__)


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda`` (an error when no GPU is usable) or ``auto``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInput("--device", "", f"{name} requested but torch sees no usable CUDA device")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise InvalidInput("--device", "", f"unknown device {name!r} ({exc})") from None


def load_runner(model: str, device: str = "cpu", runtime: str = "auto") -> TorchRunner:
    """``builtin:NAME`` or a path to a TorchScript file with its spec beside it (``.json``)."""
    dev = resolve_device(device)
    chosen = choose_runtime(runtime, dev.type, onnxruntime_installed=onnx_runtime.installed())
    if model.startswith("builtin:"):
        return _builtin(model.removeprefix("builtin:"), dev, chosen)
    return load_torchscript(Path(model), dev, runtime=chosen, strict=runtime == "onnxruntime")


def builtin_module(name: str) -> tuple[nn.Module, ModelSpec, str]:
    """A builtin model's eager module (eval mode, on the CPU), its spec and its model version."""
    if name not in BUILTIN:
        raise InvalidInput("--model", "", f"unknown builtin model {name!r} (known: {', '.join(BUILTIN)})")
    path = WEIGHTS / f"{name}.pt"
    if not path.exists():
        raise InvalidInput(str(path), "", "weights missing; run `make models` to train them")
    raw = path.read_bytes()
    module = BUILTIN[name]()
    module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    spec = load_spec(WEIGHTS / f"{name}.json")
    return module.eval(), spec, model_version(spec, raw)


def example_input(spec: ModelSpec, batch: int = 1) -> torch.Tensor:
    s = spec.input
    return torch.zeros(batch, s.channels, s.height, s.width)


def _builtin(name: str, device: torch.device, runtime: str = "torch") -> TorchRunner:
    module, spec, version = builtin_module(name)
    if runtime == "onnxruntime":
        ort = onnx_runtime.OrtModule(onnx_runtime.export_onnx(module, example_input(spec)))
        return TorchRunner(ort, spec, version, device, runtime="onnxruntime")
    optimized, memory_format = for_inference(module, device)
    return TorchRunner(optimized, spec, version, device, memory_format)


def load_torchscript(
    path: Path, device: torch.device, spec_path: Path | None = None, *, runtime: str = "torch", strict: bool = False,
) -> TorchRunner:
    """The generic runner: any TorchScript module whose outputs match a declared decoder.

    Under ONNX Runtime, a model that cannot be exported falls back to torch with a
    warning, unless ``strict`` (ONNX Runtime asked for by name) makes that an error.
    """
    if not path.exists():
        raise InvalidInput(str(path), "", "no such model file")
    spec = load_spec(spec_path or path.with_suffix(".json"))
    raw = path.read_bytes()
    module = _load_script(path, device)
    version = model_version(spec, raw)
    if runtime == "onnxruntime":
        try:
            return TorchRunner(_ort_for(path, raw, module, spec), spec, version, device, runtime="onnxruntime")
        except (RuntimeUnavailable, RuntimeError) as exc:
            if strict:
                raise RuntimeUnavailable(f"{path}: cannot run under onnxruntime ({exc})") from None
            log.warning("%s: running under torch, onnxruntime cannot take it (%s)", path, exc)
    return TorchRunner(module, spec, version, device)


def _load_script(path: Path, device: torch.device) -> torch.jit.ScriptModule:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            module: torch.jit.ScriptModule = torch.jit.load(str(path), map_location=device)
    except (RuntimeError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(str(path), "", f"not a loadable TorchScript model ({first})") from None
    return module.eval()


def _ort_for(path: Path, raw: bytes, module: torch.jit.ScriptModule, spec: ModelSpec) -> onnx_runtime.OrtModule:
    """The ``.onnx`` beside ``path`` if it was exported from these exact weights, else a fresh export."""
    sidecar, sha = path.with_suffix(".onnx"), onnx_runtime.sha256(raw)
    if sidecar.exists():
        ort = onnx_runtime.OrtModule(sidecar.read_bytes())
        if ort.metadata.get(onnx_runtime.SOURCE_KEY) == sha:
            return ort
        log.warning("%s: ignored, it was not exported from %s", sidecar, path.name)
    return onnx_runtime.OrtModule(onnx_runtime.export_onnx(module, example_input(spec), source_sha256=sha))


def export_torchscript(name: str, out: Path) -> Path:
    """Trace a builtin model to TorchScript at ``out``; write its spec and its ONNX export beside it."""
    runner = _builtin(name, torch.device("cpu"))
    example = example_input(runner.spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(runner.module, example)
    out.parent.mkdir(parents=True, exist_ok=True)
    traced.save(str(out))
    out.with_suffix(".json").write_bytes(runner.spec.canonical_json())
    module, _, _ = builtin_module(name)
    sha = onnx_runtime.sha256(out.read_bytes())
    out.with_suffix(".onnx").write_bytes(onnx_runtime.export_onnx(module, example, source_sha256=sha))
    return out
