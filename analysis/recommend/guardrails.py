"""Guardrails on how the automation rate may move, as small pure rules.

The statistical test says which thresholds are safe; these rules say how fast
the policy may follow: never more than ``MaxStep`` up per update, only when
the gain is worth it (``Hysteresis``), down at once when the current threshold
is not certified, and to automation 0 on drift (``StepDown``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from analysis.recommend.exceptions import InvalidConfig

Action = Literal["raise", "hold", "lower", "step_down"]
_EPS = 1e-12  # rates compared with a hair of slack: 0.1 + 0.1 must allow 0.2


@dataclass(frozen=True)
class MaxStep:
    """The automation rate rises by at most ``points`` (a share of all frames) per update."""

    points: float = 0.10

    def __post_init__(self) -> None:
        if not 0.0 < self.points <= 1.0:
            raise InvalidConfig("guardrails", "max_step", f"must be in (0, 1], got {self.points}")

    def allows(self, current_rate: float, proposed_rate: float) -> bool:
        return proposed_rate - current_rate <= self.points + _EPS


@dataclass(frozen=True)
class Hysteresis:
    """Raise only for a gain of at least ``min_gain``, so small wobbles of the estimates do not flap the policy."""

    min_gain: float = 0.02

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_gain <= 1.0:
            raise InvalidConfig("guardrails", "min_gain", f"must be in [0, 1], got {self.min_gain}")

    def worth_raising(self, current_rate: float, proposed_rate: float) -> bool:
        return proposed_rate - current_rate >= self.min_gain - _EPS and proposed_rate > current_rate


@dataclass(frozen=True)
class StepDown:
    """On drift, fall back to automation 0 (τ = +inf) and start gathering evidence afresh.

    The last safe threshold was certified on frames from before the change, so
    it is no safer than any other; only new evidence is.
    """

    def threshold(self, drift: bool, current: float) -> float:
        return math.inf if drift else current


@dataclass(frozen=True)
class Guardrails:
    """The rules together; ``move`` applies them to one stratum's candidates."""

    max_step: MaxStep = MaxStep()
    hysteresis: Hysteresis = Hysteresis()
    step_down: StepDown = StepDown()

    def move(
        self, taus: Sequence[float], rates: Sequence[float], passed: int, current: float, current_rate: float,
    ) -> tuple[Action, float]:
        """The action and threshold given candidates ``taus`` (descending), their estimated
        automation ``rates``, the first ``passed`` of them certified, and the threshold in force."""
        lowest = taus[passed - 1] if passed else math.inf
        if current < lowest:
            return "lower", lowest
        best = current
        for k in range(passed):
            if taus[k] < best and self.max_step.allows(current_rate, rates[k]):
                best = taus[k]
        if best < current and self.hysteresis.worth_raising(current_rate, rates[taus.index(best)]):
            return "raise", best
        return "hold", current
