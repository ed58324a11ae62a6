"""Model loaders: the project's reference models by name, or any TorchScript file with a spec."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from analysis.exceptions import InvalidInput
from services.engine.models.detector import TinyCenterNet
from services.engine.models.digits import DigitsNet
from services.engine.optimize import for_inference
from services.engine.runner import TorchRunner
from services.engine.spec import ModelSpec, load_spec

WEIGHTS = Path(__file__).resolve().parent / "weights"
BUILTIN: dict[str, Callable[[], nn.Module]] = {"driving-detector": TinyCenterNet, "digits": DigitsNet}


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


def model_version(spec: ModelSpec, weights: bytes) -> str:
    """``name@hash`` of the weights and the spec: every result traces to the exact model."""
    digest = hashlib.sha256(weights + spec.canonical_json()).hexdigest()[:12]
    return f"{spec.name}@{digest}"


def load_runner(model: str, device: str = "cpu") -> TorchRunner:
    """``builtin:NAME`` or a path to a TorchScript file with its spec beside it (``.json``)."""
    dev = resolve_device(device)
    if model.startswith("builtin:"):
        return _builtin(model.removeprefix("builtin:"), dev)
    return load_torchscript(Path(model), dev)


def _builtin(name: str, device: torch.device) -> TorchRunner:
    if name not in BUILTIN:
        raise InvalidInput("--model", "", f"unknown builtin model {name!r} (known: {', '.join(BUILTIN)})")
    path = WEIGHTS / f"{name}.pt"
    if not path.exists():
        raise InvalidInput(str(path), "", "weights missing; run `make models` to train them")
    raw = path.read_bytes()
    module = BUILTIN[name]()
    module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    spec = load_spec(WEIGHTS / f"{name}.json")
    optimized, memory_format = for_inference(module, device)
    return TorchRunner(optimized, spec, model_version(spec, raw), device, memory_format)


def load_torchscript(path: Path, device: torch.device, spec_path: Path | None = None) -> TorchRunner:
    """The generic runner: any TorchScript module whose outputs match a declared decoder."""
    if not path.exists():
        raise InvalidInput(str(path), "", "no such model file")
    spec = load_spec(spec_path or path.with_suffix(".json"))
    raw = path.read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            module = torch.jit.load(str(path), map_location=device)
    except (RuntimeError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(str(path), "", f"not a loadable TorchScript model ({first})") from None
    return TorchRunner(module.eval(), spec, model_version(spec, raw), device)


def export_torchscript(name: str, out: Path) -> Path:
    """Trace a builtin model to TorchScript at ``out`` and write its spec beside it."""
    runner = _builtin(name, torch.device("cpu"))
    s = runner.spec.input
    example = torch.zeros(1, s.channels, s.height, s.width)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(runner.module, example)
    out.parent.mkdir(parents=True, exist_ok=True)
    traced.save(str(out))
    out.with_suffix(".json").write_bytes(runner.spec.canonical_json())
    return out
