"""Which runtime runs a model: ONNX Runtime on the CPU, torch on a GPU (``benchmarks/inference.py``)."""

from __future__ import annotations

from analysis.exceptions import InvalidInput
from services.engine.exceptions import RuntimeUnavailable
from services.engine.onnx_runtime import INSTALL

RUNTIMES = ("auto", "torch", "onnxruntime")


def choose_runtime(requested: str, device_type: str, *, onnxruntime_installed: bool) -> str:
    """``torch`` or ``onnxruntime`` for a model on ``device_type``.

    ``auto`` is ONNX Runtime on the CPU when installed (the fastest CPU runtime
    measured, same results within tolerance: docs/engine.md) and torch otherwise,
    always torch on a GPU.
    """
    if requested not in RUNTIMES:
        raise InvalidInput("--runtime", "", f"unknown runtime {requested!r} (known: {', '.join(RUNTIMES)})")
    if requested == "onnxruntime":
        if device_type != "cpu":
            raise InvalidInput("--runtime", "", f"onnxruntime runs on the cpu here, not on {device_type}")
        if not onnxruntime_installed:
            raise RuntimeUnavailable(f"--runtime onnxruntime: onnxruntime is not installed; {INSTALL}")
        return "onnxruntime"
    if requested == "auto" and device_type == "cpu" and onnxruntime_installed:
        return "onnxruntime"
    return "torch"
