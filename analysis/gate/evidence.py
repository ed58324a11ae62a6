"""What the gate answers: a decision with its evidence, after the whole stream or after each frame."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis.annotations.model_types import BoolArray, FloatArray, IntArray

Decision = Literal["pass", "fail", "inconclusive"]
Rule = Literal["pooled", "every-stratum"]
DECISIONS: tuple[Decision, ...] = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class GateResult:
    """The evidence bundle: the decision, the numbers behind it and one sentence saying why.

    ``lower`` / ``upper`` are one-sided (1 − α) confidence sequences: acceptance is above
    ``lower`` and below ``upper`` each with probability ≥ 1 − α at every time at once.
    ``pass`` means ``lower ≥ target``, ``fail`` means ``upper ≤ target`` (``upper`` is the
    smallest rate ruled out, so acceptance is strictly below it).
    """

    decision: Decision
    n: int
    estimate: float
    lower: float
    upper: float
    method: str
    alpha: float
    target: float
    failing_strata: tuple[str, ...]
    reason: str
    rule: Rule = "pooled"
    max_weight: float = 1.0
    stratum: str | None = None


@dataclass(frozen=True, eq=False)
class GateTrace:
    """The gate's answer after each observation, in arrival order (``failing``: rows × ``strata``)."""

    n: IntArray
    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray
    decision: tuple[Decision, ...]
    strata: tuple[str, ...]
    failing: BoolArray

    def __len__(self) -> int:
        return int(self.n.size)

    def failing_strata(self, row: int) -> tuple[str, ...]:
        return tuple(s for s, bad in zip(self.strata, self.failing[row], strict=True) if bad)


@dataclass(frozen=True, eq=False)
class FirstDecisions:
    """Per simulated run: after how many observations the gate first passes / fails (0: never)."""

    passed_at: IntArray
    failed_at: IntArray


def decide(lower: FloatArray, upper: FloatArray, target: float) -> tuple[Decision, ...]:
    """pass where the lower bound reaches the target, fail where the upper bound does, else inconclusive."""
    codes = np.where(lower >= target, 0, np.where(upper <= target, 1, 2))
    return tuple(DECISIONS[int(c)] for c in codes)


def reason(result: GateResult) -> str:
    """One sentence an operator can read in a rollout log."""
    r = result
    level = f"{100.0 * (1.0 - r.alpha):g}%"
    where = f" in {r.stratum}" if r.stratum else ""
    if r.n == 0 or math.isnan(r.estimate):
        return f"no compared frames{where} yet, so nothing is known about acceptance: keep sampling"
    subject = "acceptance of the worst stratum" if r.rule == "every-stratum" else f"acceptance{where}"
    seen = f"{subject} {r.estimate:.3f} over {r.n:,} frames"
    anytime = "valid at any stopping time"
    if r.decision == "pass":
        text = f"{seen} is above the target {r.target:g} with {level} confidence (lower bound {r.lower:.3f}), {anytime}"
    elif r.decision == "fail":
        text = f"{seen} is below the target {r.target:g} with {level} confidence (upper bound {r.upper:.3f}), {anytime}"
    else:
        text = (f"{seen} is not yet distinguishable from the target {r.target:g} at {level} confidence: "
                f"it lies between {r.lower:.3f} and {r.upper:.3f}")
    if r.failing_strata:
        names = ", ".join(r.failing_strata)
        verb = "is" if len(r.failing_strata) == 1 else "are"
        text += f"; {names} {verb} below the target on {'its' if verb == 'is' else 'their'} own"
    return text
