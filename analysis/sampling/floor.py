"""The audit floor: eligible frames are audited with a probability that never reaches zero."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.sampling.exceptions import InvalidPolicy


@dataclass(frozen=True)
class AuditFloor:
    """Smallest audit probability π of a frame eligible to ship.

    A frame with π = 0 is never compared, so no weighted estimate could see it;
    the floor keeps every shipped frame visible and bounds the weights 1/π that
    the recommender's test and drift detector must survive.
    """

    rate: float = 0.02

    def __post_init__(self) -> None:
        if not 0.0 < self.rate <= 1.0:
            raise InvalidPolicy("audit floor", "rate", f"must be in (0, 1], got {self.rate}")

    def apply(self, probability: float) -> float:
        """``probability`` raised to the floor (and kept at most 1)."""
        return min(1.0, max(self.rate, probability))

    @property
    def max_weight(self) -> float:
        """Largest weight 1/π an audited frame can carry."""
        return 1.0 / self.rate
