"""Running a torch model over batches of frames, one failed frame never stopping the rest.

Image models take frames' pixels (:mod:`services.engine.preprocess`); a ``detector3d`` takes their
point clouds (:mod:`services.engine.points`). A frame of the other sort fails alone, saying so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from services.engine import points
from services.engine.decode import DECODE, Decoded
from services.engine.frames import Frame
from services.engine.preprocess import BadFrame, check_frame, to_batch
from services.engine.results import AutomationResult, failed
from services.engine.spec import ModelSpec

Module = Callable[[torch.Tensor], object]


class TorchRunner:
    """A network (eager, TorchScript or ONNX Runtime) with its declared pre- and post-processing.

    ``module`` takes a float input batch and returns torch tensors; ``runtime`` names
    what runs it (``torch`` or ``onnxruntime``), for reports; results never depend on it
    beyond the tolerance ``benchmarks/inference.py`` states.
    """

    def __init__(
        self, module: Module, spec: ModelSpec, model_version: str, device: torch.device,
        memory_format: torch.memory_format = torch.contiguous_format, *, runtime: str = "torch",
    ) -> None:
        self.module = module
        self.spec = spec
        self.model_version = model_version
        self.device = device
        self.memory_format = memory_format
        self.runtime = runtime
        self.takes_points = spec.kind == "detector3d"
        self._decode = DECODE.get(spec.decode.type)  # image decoders; a detector3d decodes in points.forward

    def warm_up(self, batch_size: int = 2) -> None:
        """One throw-away batch, so the first real frames do not pay for lazy set-up."""
        if self.takes_points:
            self.infer([Frame(0, None, points=points.blank_cloud()) for _ in range(batch_size)])
            return
        s = self.spec.input
        zeros = np.zeros((s.height, s.width, s.channels), dtype=np.uint8)
        self.infer([Frame(0, zeros) for _ in range(batch_size)])

    def infer(self, frames: Sequence[Frame]) -> list[AutomationResult]:
        """One result per frame, in order; frames that cannot be processed carry an error."""
        results: list[AutomationResult | None] = [None] * len(frames)
        good: list[int] = []
        images = []
        for i, frame in enumerate(frames):
            try:
                images.append(self._check(frame))
                good.append(i)
            except BadFrame as exc:
                results[i] = failed(frame.frame_id, self.model_version, f"frame {frame.frame_id}: {exc}")
        if good:
            for i, result in zip(good, self._run([frames[i] for i in good], images), strict=True):
                results[i] = result
        return [r for r in results if r is not None]

    def _check(self, frame: Frame) -> np.ndarray:
        if self.takes_points:
            return points.check_points(frame)
        return check_frame(frame, self.spec.input, resize=self.spec.input.resize)

    def _run(self, frames: list[Frame], images: list[np.ndarray]) -> list[AutomationResult]:
        try:
            return self._forward(frames, images)
        except RuntimeError as exc:
            if len(frames) == 1:
                return [failed(frames[0].frame_id, self.model_version, f"frame {frames[0].frame_id}: {exc}")]
        return [r for f, im in zip(frames, images, strict=True) for r in self._run([f], [im])]

    def _forward(self, frames: list[Frame], images: list[np.ndarray]) -> list[AutomationResult]:
        if self.takes_points:
            return points.forward(self.module, self.spec, self.model_version, frames, images, device=self.device,
                                  memory_format=self.memory_format)
        start = time.perf_counter()
        batch = to_batch(images, self.spec.input, self.device, self.memory_format)
        with torch.inference_mode():
            outputs = self.module(batch.tensor)
        outputs = outputs if isinstance(outputs, tuple | list) else (outputs,)
        assert self._decode is not None, self.spec.decode.type
        decoded = self._decode(tuple(outputs), self.spec.decode)
        per_frame_ms = 1000 * (time.perf_counter() - start) / len(frames)
        return [self._result(f, d, batch.scale[i], batch.size[i], per_frame_ms)
                for i, (f, d) in enumerate(zip(frames, decoded, strict=True))]

    def _result(self, frame: Frame, d: Decoded, scale: np.ndarray, size: np.ndarray, ms: float) -> AutomationResult:
        if self.spec.kind == "classifier":
            top = int(np.argmax(d.tag_probs))
            tag, label = self.spec.decode.tag, self.spec.decode.labels[top]
            return AutomationResult(frame.frame_id, self.model_version, tags={tag: label},
                                    tag_scores={tag: float(d.tag_probs[top])}, confidence=d.confidence,
                                    inference_ms=ms)
        boxes = _clip(d.boxes * np.tile(scale, 2), size)
        keep = (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
        ids = np.array([c for c, _ in self.spec.categories], dtype=np.int64)[d.labels[keep]]
        return AutomationResult(frame.frame_id, self.model_version, boxes=boxes[keep], category_ids=ids,
                                scores=d.scores[keep], confidence=d.confidence, inference_ms=ms)


def _clip(boxes: np.ndarray, size: np.ndarray) -> np.ndarray:
    x1 = np.clip(boxes[:, 0], 0, size[0])
    y1 = np.clip(boxes[:, 1], 0, size[1])
    x2 = np.clip(boxes[:, 0] + boxes[:, 2], 0, size[0])
    y2 = np.clip(boxes[:, 1] + boxes[:, 3], 0, size[1])
    return np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
