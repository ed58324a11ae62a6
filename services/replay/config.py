"""Settings of one offline replay: the loop's (``loop``) plus which frames and how people err."""

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
    frames: int = 3000
    seed: int = 0  # scenes and annotators
    frames_per_second: float = 2.0  # simulated arrival rate: sets the clock budget policies see
    source: str | None = None  # frames (a COCO JSON); default: the dataset profile's source
    spec: QualitySpec | None = None  # default: the dataset profile's spec
    human: HumanErrorModel = field(default_factory=HumanErrorModel)
    model: str | None = None  # default: the dataset profile's reference model
    strata: tuple[str, ...] = ()  # frame tags whose values make a frame's stratum, e.g. ("time_of_day",)
    batch_size: int = 32
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise InvalidInput("replay", "frames", f"must be >= 1, got {self.frames}")
        if self.loop.window < 10:
            raise InvalidInput("replay", "window", f"must be >= 10 machine comparisons, got {self.loop.window}")
        if self.frames < self.loop.window:
            raise InvalidInput("replay", "frames", f"need frames >= window, got {self.frames} frames, "
                               f"window {self.loop.window}")

    def stratum(self, tags: Mapping[str, Any]) -> str:
        """A frame's stratum from its tags: ``key=value`` per name in ``strata`` (``all`` without strata)."""
        return stratum_of(tags, self.strata)

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
