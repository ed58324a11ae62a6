"""``detect``: a model annotates every frame of the source (the engine's runner, as ``shadowqa engine run``).

The step names its ``model``: ``builtin:driving-detector``, ``builtin:digits``, or a TorchScript file with
its ``.json`` spec beside it. Parameters:

- ``runtime`` (``auto``): ``auto``, ``torch`` or ``onnxruntime``, as :func:`services.engine.loading.load_runner`
  takes it; boxes agree across runtimes within the tolerance ``benchmarks/inference.py`` states, so the
  runtime is not part of the version.

Version: the model's version (``name@hash`` of its weights and spec), computed without loading torch so a
run from a later step can check it cheaply. The device and batch size come from the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.exceptions import InvalidInput
from services.engine.chain.data import FrameInfo, StepOutput, recording
from services.engine.chain.registry import register
from services.engine.chain.step import ChainStep, RunContext
from services.engine.spec import load_spec
from services.engine.spec import model_version as spec_version

if TYPE_CHECKING:
    from services.engine.runner import TorchRunner

WEIGHTS = Path(__file__).resolve().parents[2] / "weights"  # services/engine/weights, as loading.WEIGHTS


@dataclass(frozen=True)
class DetectParams:
    runtime: str = field(default="auto", metadata={"choices": ("auto", "torch", "onnxruntime")})


@register("detect")
class DetectStep(ChainStep):
    Params = DetectParams
    takes_model = True
    reads_frames = True
    _runner: TorchRunner | None = None

    def version(self) -> str:
        return model_version(str(self.spec.model))

    def prepare(self, context: RunContext) -> None:
        from services.engine.loading import load_runner

        self._runner = load_runner(str(self.spec.model), context.device, self.spec.params.runtime)
        self._runner.warm_up()

    def run(self, data: StepOutput | None, context: RunContext) -> StepOutput:
        from services.engine.run import run_frames

        source = context.source
        if source is None:
            raise InvalidInput(self.name, "", "the detect step needs frames (--images)")
        if self._runner is None:
            self.prepare(context)
        runner = self._runner
        assert runner is not None
        frames: list[FrameInfo] = []
        report = run_frames(runner, recording(source, frames), batch_size=context.batch_size, total=len(source),
                            progress=context.progress)
        return StepOutput(tuple(frames), tuple(report.results))


def model_version(model: str) -> str:
    """The version :func:`services.engine.loading.load_runner` gives ``model``, from its files alone."""
    builtin = model.startswith("builtin:")
    weights = WEIGHTS / f"{model.removeprefix('builtin:')}.pt" if builtin else Path(model)
    if not weights.is_file():
        raise InvalidInput(model, "", f"no model file {weights}")
    spec = load_spec(weights.with_suffix(".json"))
    return spec_version(spec, weights.read_bytes())
