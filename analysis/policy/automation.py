"""Automation policy values shared by the router, the gate and the recommender.

A frame *ships* (is delivered on automation alone) when the model's frame
confidence is at least the threshold τ of the frame's stratum; otherwise it
goes to people. τ = +inf means automation rate 0: every frame is annotated by
hand, which is where a new model version starts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

ALL = "all"  # the stratum of frames no stratum-specific threshold covers


@dataclass(frozen=True)
class FrameInfo:
    """What the router knows of a frame when it arrives: never the manual answer."""

    frame_id: str
    confidence: float
    stratum: str = ALL
    model_version: str = ""
    time: float = 0.0  # seconds since the stream started; budget windows use it


@dataclass(frozen=True)
class AutomationPolicy:
    """Confidence thresholds per stratum, versioned; ``default`` covers the rest."""

    default: float = math.inf
    thresholds: Mapping[str, float] = field(default_factory=dict)
    version: int = 0

    def threshold(self, stratum: str) -> float:
        return self.thresholds.get(stratum, self.default)

    def ships(self, frame: FrameInfo) -> bool:
        """Would this frame be eligible to ship without manual work?"""
        return frame.confidence >= self.threshold(frame.stratum)

    def with_threshold(self, stratum: str, tau: float) -> AutomationPolicy:
        if stratum == ALL:
            return replace(self, default=tau, version=self.version + 1)
        return replace(self, thresholds={**self.thresholds, stratum: tau}, version=self.version + 1)
