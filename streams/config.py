"""What a pipeline run is configured with (validated once, passed to every agent)."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.exceptions import InvalidInput

ROLES = ("automation", "router", "comparator", "aggregator", "persist")


@dataclass(frozen=True)
class PipelineConfig:
    """The shadow loop's settings: model, data set, sampling, decision targets, cadences."""

    model: str = "builtin:driving-detector"
    dataset: str = "driving"  # label set and QA spec of the comparator: driving or digits
    device: str = "cpu"
    batch_size: int = 16  # frames per forward pass
    batch_within: float = 0.05  # seconds to wait for a batch to fill
    route_batch: int = 500
    compare_batch: int = 500
    target: float = 0.85
    alpha: float = 0.05
    audit_floor: float = 0.25
    audit_scale: float = 0.3
    consensus_share: float = 0.1
    salt: str = "shadowqa"
    auto_apply: bool = True  # publish each recommended policy to `policies`
    pending_ttl: float = 3600.0  # seconds an incomplete comparison waits before it is expired and counted
    max_step: float = 0.10
    window: int = 150  # machine comparisons per recommender step; the first places its threshold grid
    engine_delay_s: float = 0.0  # tests only (SHADOWQA_TEST_ENGINE_DELAY_S): a wait per frame, a slowed machine

    def __post_init__(self) -> None:
        for name in ("target", "alpha", "audit_floor"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise InvalidInput("pipeline", name, f"must be in (0, 1), got {value}")
        if self.batch_size < 1 or self.compare_batch < 1:
            raise InvalidInput("pipeline", "batch_size", "batch sizes must be >= 1")
