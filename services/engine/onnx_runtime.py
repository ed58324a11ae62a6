"""ONNX Runtime on the CPU: a network exported through ``torch.onnx`` behind the callable a runner takes.

The legacy TorchScript-based exporter (``dynamo=False``) is used: it needs only the
``onnx`` package and exports the detector in ~2 s, where the dynamo exporter takes
~20 s here (``benchmarks/inference.py``), too slow to run when a worker starts.
The batch axis is dynamic. An ONNX file written beside a TorchScript file records
the SHA-256 of that file, so a sidecar left over from other weights is never used.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from tempfile import TemporaryDirectory

import torch
from torch import nn

from services.engine.exceptions import RuntimeUnavailable

SOURCE_KEY = "shadowqa.source_sha256"  # ONNX metadata: the TorchScript file an export was made from
INSTALL = "pip install 'onnxruntime==1.32.0' 'onnx==1.23.2'"


def installed() -> bool:
    """Whether ``onnxruntime`` can be imported (checked without importing it)."""
    from importlib.util import find_spec

    return find_spec("onnxruntime") is not None


def export_onnx(module: nn.Module, example: torch.Tensor, *, source_sha256: str = "") -> bytes:
    """The module (eager or TorchScript) as an ONNX model with a dynamic batch axis.

    ``source_sha256`` is recorded in the model's metadata: the file it was exported from.
    """
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(module, (example,), path, input_names=["input"], dynamo=False,
                                  dynamic_axes={"input": {0: "batch"}}, opset_version=17)
        except ImportError as exc:
            raise RuntimeUnavailable(f"exporting to ONNX needs the onnx package ({exc}); {INSTALL}") from None
        exported = path.read_bytes()
    if not source_sha256:
        return exported
    import onnx

    model = onnx.load_from_string(exported)
    onnx.helper.set_model_props(model, {SOURCE_KEY: source_sha256})
    return bytes(model.SerializeToString())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OrtModule:
    """An ONNX model run by ONNX Runtime's CPU provider, called like the torch module it was exported from.

    Graph optimisation ``ALL``; intra-op threads as many as torch uses, and no
    busy-waiting between operators: on a machine shared with the other workers,
    spinning threads cost more than they save (``benchmarks/inference.py``).
    """

    def __init__(self, model: bytes, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort  # type: ignore[import-untyped]
        except ImportError:
            raise RuntimeUnavailable(f"the onnxruntime runtime is not installed; {INSTALL}") from None
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for invalid graphs
            raise RuntimeUnavailable(f"ONNX Runtime cannot load the model ({exc})") from None
        self.input = self.session.get_inputs()[0].name
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)

    def __call__(self, batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outputs = self.session.run(None, {self.input: batch.detach().cpu().contiguous().numpy()})
        return tuple(torch.from_numpy(o) for o in outputs)
