"""The contract of a step kind: a class registered by name that turns the previous step's output into its own."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from services.engine.chain.params import as_mapping

if TYPE_CHECKING:
    from services.engine.chain.data import StepOutput
    from services.engine.frames import FrameSource


@dataclass(frozen=True)
class StepSpec:
    """One step as the spec states it; ``params`` is the kind's params dataclass, defaults filled in."""

    name: str
    kind: str
    params: Any
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.model is not None:
            doc["model"] = self.model
        doc["params"] = as_mapping(self.params)
        return doc


@dataclass(frozen=True)
class RunContext:
    """What a run gives its steps besides the previous output: the frames (for a step that reads pixels) and
    how to run models. None of it changes a step's output beyond a model runtime's stated tolerance."""

    source: FrameSource | None = None
    batch_size: int = 16
    device: str = "cpu"
    progress: bool = False


class ChainStep(ABC):
    """One step of a chain. ``Params`` is the frozen dataclass its spec's ``params`` are read into;
    ``takes_model``: the spec names a ``model``; ``reads_frames``: the step reads the source's frames and
    comes first, every other step reads the output of the step before it."""

    kind: ClassVar[str]
    Params: ClassVar[type[Any]]
    takes_model: ClassVar[bool] = False
    reads_frames: ClassVar[bool] = False

    def __init__(self, spec: StepSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def version(self) -> str:
        """A short string that changes whenever the step could give another output for the same input."""

    def parameters(self) -> dict[str, Any]:
        """The parameters the step runs with, defaults filled in, for the manifest."""
        return as_mapping(self.spec.params)

    def prepare(self, context: RunContext) -> None:  # noqa: B027 (optional hook, nothing to do by default)
        """One-time set-up before :meth:`run` (loading a model, importing a library), timed apart from it."""

    @abstractmethod
    def run(self, data: StepOutput | None, context: RunContext) -> StepOutput:
        """This step's output from the previous step's (None for a step that reads frames)."""
