"""Settings of one offline replay: the loop's (``loop``) plus which frames (or clips) and how people err."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.agreement import QualitySpec
from analysis.exceptions import InvalidInput
from analysis.sampling.strata import stratum_of
from services.datasets.profiles import profile
from services.loop.config import LoopConfig
from services.loop.datasets import DatasetProfile
from services.replay.annotators import HumanErrorModel


@dataclass(frozen=True)
class ReplayConfig:
    """One replay: the shadow loop's settings, the frames replayed, the simulated people."""

    loop: LoopConfig = field(default_factory=LoopConfig)
    frames: int = 3000  # the loop's units: clips for a dataset of clips (``clips``)
    seed: int = 0  # scenes and annotators
    frames_per_second: float = 2.0  # simulated arrival rate: sets the clock budget policies see
    clips_per_second: float = 0.2  # the same for a dataset of clips (a clip is a 20-frame task)
    source: str | None = None  # frames (a COCO JSON); default: the dataset profile's source
    spec: QualitySpec | None = None  # default: the dataset profile's spec
    human: HumanErrorModel = field(default_factory=HumanErrorModel)
    model: str | None = None  # default: the dataset profile's reference model
    strata: tuple[str, ...] = ()  # frame tags whose values make a frame's stratum, e.g. ("time_of_day",)
    batch_size: int = 32
    device: str = "cpu"
    pipeline: str | None = None  # a dataset of clips: the chain replayed (a pipeline spec); default the profile's

    def __post_init__(self) -> None:
        unit = "clips" if self.clips else "frames"
        if self.frames < 1:
            raise InvalidInput("replay", unit, f"must be >= 1, got {self.frames}")
        if self.loop.window < 10:
            raise InvalidInput("replay", "window", f"must be >= 10 machine comparisons, got {self.loop.window}")
        if self.frames < self.loop.window:
            raise InvalidInput("replay", unit, f"need {unit} >= window, got {self.frames} {unit}, "
                               f"window {self.loop.window}")
        if self.clips and (self.source is not None or self.model is not None):
            raise InvalidInput("replay", "dataset", f"{self.profile.name} is replayed clip by clip from its own "
                               "source through a chain (pipeline), not a frame source or a model")
        if self.pipeline is not None and not self.clips:
            raise InvalidInput("replay", "pipeline", f"{self.profile.name} is replayed frame by frame through a "
                               "model; a pipeline is for a dataset of clips")

    def stratum(self, tags: Mapping[str, Any]) -> str:
        """A frame's stratum from its tags: ``key=value`` per name in ``strata`` (``all`` without strata)."""
        return stratum_of(tags, self.strata)

    @property
    def clips(self) -> bool:
        """The loop's unit is a clip (the dataset profile judges clips): the replay runs a chain."""
        return self.profile.clip_spec is not None

    @property
    def pipeline_spec(self) -> str:
        """The chain a clip replay runs: ``pipeline`` or the profile's reference chain."""
        chain = self.pipeline or self.profile.pipeline
        if chain is None:
            raise InvalidInput("replay", "pipeline", f"{self.profile.name} names no chain to replay")
        return chain

    @property
    def dataset(self) -> str:
        return self.source or self.profile.name

    @property
    def profile(self) -> DatasetProfile:
        return profile(self.loop.dataset)

    @property
    def quality_spec(self) -> QualitySpec:
        return self.spec if self.spec is not None else self.profile.spec

    @property
    def model_name(self) -> str:
        if self.model is not None:
            return self.model
        if self.source is not None:
            raise InvalidInput("replay", "model", f"--model is needed for frames from {self.source!r}")
        return self.profile.reference_model

    @property
    def source_spec(self) -> str:
        return self.source or self.profile.source(self.seed, self.frames)
