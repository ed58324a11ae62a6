"""What a streaming worker is configured with: the loop's settings plus its own cadences (validated once)."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.exceptions import InvalidInput
from services.loop.config import LoopConfig


@dataclass(frozen=True)
class PipelineConfig:
    """A worker's settings: the shadow loop's (``loop``), and the model (or chain of steps run on clips), device and
    batch cadences of its agents."""

    loop: LoopConfig = field(default_factory=LoopConfig)
    model: str = "builtin:driving-detector"
    pipeline: str | None = None  # a chain (spec file or builtin: name) run on whole clips instead of ``model``
    device: str = "cpu"
    batch_size: int = 16  # frames per forward pass
    batch_within: float = 0.05  # seconds to wait for a batch to fill
    route_batch: int = 500
    compare_batch: int = 500
    checkpoint_interval: float = 30.0  # seconds between the aggregator's checkpoints (streams/checkpoint.py)
    engine_delay_s: float = 0.0  # tests only (SHADOWQA_TEST_ENGINE_DELAY_S): a wait per frame, a slowed machine

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.compare_batch < 1 or self.route_batch < 1:
            raise InvalidInput("pipeline", "batch_size", "batch sizes must be >= 1")
        if not self.checkpoint_interval > 0.0:
            raise InvalidInput("pipeline", "checkpoint_interval", f"must be > 0, got {self.checkpoint_interval}")
