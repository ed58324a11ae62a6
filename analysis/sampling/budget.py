"""A budget cap on audits per time window, wrapping any stateless policy.

The team can do at most ``per_window`` audit tasks per window (an hour by
default). The wrapped policy's π is scaled down, deterministically from the
running state, so that the demand forecast for the rest of the window fits the
budget left; once the budget is spent π falls to the floor. The floor wins over
the budget: frames drawn at the floor rate after the budget is spent are still
audited, so size the budget above floor × eligible arrivals per window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from analysis.policy.automation import FrameInfo
from analysis.sampling.evidence import Evidence
from analysis.sampling.exceptions import InvalidPolicy
from analysis.sampling.policies import SamplingPolicy, SamplingState
from analysis.sampling.registry import register


@register("budget")
@dataclass(frozen=True)
class BudgetCapped:
    """At most ``per_window`` audits per window (beyond floor-rate draws), paced over the window."""

    inner: SamplingPolicy
    per_window: int
    window_seconds: float = 3600.0
    floor: float = 0.02
    warmup_seconds: float = 60.0  # the demand rate of a window is trusted after this long

    def __post_init__(self) -> None:
        if self.per_window < 0:
            raise InvalidPolicy("sampling policy", "BudgetCapped.per_window", f"must be >= 0, got {self.per_window}")
        if not (self.window_seconds > 0.0 and self.warmup_seconds > 0.0):
            raise InvalidPolicy("sampling policy", "BudgetCapped", "window and warm-up lengths must be > 0")
        if not 0.0 < self.floor <= 1.0:
            raise InvalidPolicy("sampling policy", "BudgetCapped.floor", f"must be in (0, 1], got {self.floor}")

    def probability(self, frame: FrameInfo, state: SamplingState) -> float:
        """The wrapped π, scaled by budget left over demand forecast, never below the floor."""
        current = self.current(state, frame.time)
        base = self.inner.probability(frame, current)
        lowest = min(base, self.floor)
        left = self.per_window - current.used
        if left <= 0:
            return lowest
        demand = base + self._demand_rate(current, frame.time) * self._seconds_left(frame.time)
        return max(lowest, base * min(1.0, left / demand))

    def observe(self, state: SamplingState, frame: FrameInfo, sampled: bool) -> SamplingState:
        current = self.current(state, frame.time)
        base = self.inner.probability(frame, current)
        return replace(current, used=current.used + int(sampled), demand=current.demand + base)

    def with_evidence(self, evidence: Evidence) -> BudgetCapped:
        """The wrapped policy learns; the budget stays."""
        return replace(self, inner=self.inner.with_evidence(evidence))

    def current(self, state: SamplingState, time: float) -> SamplingState:
        """The state moved to the window holding ``time`` (a new window starts from zero used)."""
        window = self.window_of(time)
        if window <= state.window:  # a late frame counts against the window in progress
            return state
        last = state.demand if window == state.window + 1 else 0.0
        return SamplingState(window=window, used=0, demand=0.0, last_demand=last)

    def window_of(self, time: float) -> int:
        return math.floor(time / self.window_seconds) if math.isfinite(time) else 0

    def _seconds_left(self, time: float) -> float:
        return (self.window_of(time) + 1) * self.window_seconds - time if math.isfinite(time) else 0.0

    def _demand_rate(self, state: SamplingState, time: float) -> float:
        """Σ π per second: the larger of last window's and this window's rate so far."""
        elapsed = time - state.window * self.window_seconds if math.isfinite(time) else 0.0
        so_far = state.demand / max(elapsed, self.warmup_seconds)
        return max(state.last_demand / self.window_seconds, so_far)
