"""Settings of one offline replay (validated; every default documented)."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.agreement import QualitySpec
from analysis.exceptions import InvalidInput
from services.datasets.driving.qa_spec import REFERENCE_SPEC
from services.replay.annotators import HumanErrorModel

DATASETS = {"builtin:driving": "builtin:driving-detector", "builtin:digits": "builtin:digits"}
DRIVING_SPEC = REFERENCE_SPEC
DIGITS_SPEC = QualitySpec.from_mapping({"tags": ["digit"]}, "digits spec")


@dataclass(frozen=True)
class ReplayConfig:
    """One replay: which frames, which model, how the shadow loop is tuned."""

    dataset: str = "builtin:driving"
    frames: int = 3000
    seed: int = 0
    window: int = 150  # frames between policy updates
    frames_per_second: float = 2.0  # simulated arrival rate: sets the clock budget policies see
    target: float = 0.85
    alpha: float = 0.05
    audit_floor: float = 0.25  # smallest π of a frame eligible to ship; bets are sized for 1/floor
    audit_scale: float = 0.3  # confidence-weighted audit: π = min(1, scale·(1 − confidence) + floor)
    consensus_share: float = 0.1
    max_step: float = 0.10
    spec: QualitySpec | None = None  # default: the dataset's spec (DRIVING_SPEC or DIGITS_SPEC)
    human: HumanErrorModel = field(default_factory=HumanErrorModel)
    model: str | None = None  # default: the dataset's reference model
    batch_size: int = 32
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.frames < self.window or self.window < 10:
            raise InvalidInput("replay", "frames", f"need window >= 10 and frames >= window, got "
                               f"{self.frames} frames, window {self.window}")
        for name in ("target", "alpha", "audit_floor"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise InvalidInput("replay", name, f"must be in (0, 1), got {value}")

    @property
    def quality_spec(self) -> QualitySpec:
        if self.spec is not None:
            return self.spec
        return DIGITS_SPEC if self.dataset == "builtin:digits" else DRIVING_SPEC

    @property
    def model_name(self) -> str:
        if self.model is not None:
            return self.model
        if self.dataset not in DATASETS:
            raise InvalidInput("replay", "model", f"--model is needed for dataset {self.dataset!r}")
        return DATASETS[self.dataset]

    @property
    def source_spec(self) -> str:
        if self.dataset == "builtin:driving":
            return f"synthetic://driving?seed={self.seed}&n={self.frames}"
        if self.dataset == "builtin:digits":
            return f"sklearn-digits://?split=all&n={self.frames}"
        return self.dataset
