"""The results of attributing a chain's errors to its steps: frozen, ``to_dict()``, and additive over clips.

:func:`combine` (or ``a + b``) sums every count of two results with the same steps, so the result of a run is
the sum of its clips'; shares and the limiting step are recomputed from the summed counts, never averaged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from analysis.tracking.exceptions import InvalidMetricParameter
from analysis.tracking.step_errors import StepFigures


@dataclass(frozen=True)
class ErrorCounts:
    """Misses (truth detections unmatched), false positives (boxes unmatched) and ID switches."""

    misses: int = 0
    false_positives: int = 0
    switches: int = 0

    @property
    def total(self) -> int:
        return self.misses + self.false_positives + self.switches

    def __add__(self, other: ErrorCounts) -> ErrorCounts:
        return ErrorCounts(self.misses + other.misses, self.false_positives + other.false_positives,
                           self.switches + other.switches)

    def to_dict(self) -> dict[str, int]:
        return {"misses": self.misses, "false_positives": self.false_positives, "switches": self.switches,
                "total": self.total}


@dataclass(frozen=True)
class StepAttribution:
    """One step: its agreement with the truth, the errors it introduced and removed relative to the step before
    it, and the final output's errors attributed to it (``attributed``)."""

    name: str
    figures: StepFigures
    introduced: ErrorCounts
    removed: ErrorCounts
    attributed: ErrorCounts

    @property
    def has_ids(self) -> bool:
        return self.figures.has_ids

    @property
    def errors(self) -> ErrorCounts:
        """The errors of this step's own output (its misses, false positives and switches)."""
        f = self.figures
        return ErrorCounts(f.misses, f.false_positives, f.switches)

    def __add__(self, other: StepAttribution) -> StepAttribution:
        if other.name != self.name:
            raise InvalidMetricParameter("attribution", "steps", f"cannot add step {other.name!r} to {self.name!r}")
        return StepAttribution(self.name, self.figures + other.figures, self.introduced + other.introduced,
                               self.removed + other.removed, self.attributed + other.attributed)


@dataclass(frozen=True)
class ChainAttribution:
    """Every step of a chain over ``clips`` clips, in chain order; the last step's output is the final one."""

    steps: tuple[StepAttribution, ...]
    iou_threshold: float
    clips: int = 1

    @property
    def final(self) -> ErrorCounts:
        """The final output's errors; by construction the sum of the steps' ``attributed``."""
        return self.steps[-1].errors

    @property
    def shares(self) -> tuple[float, ...]:
        """Per step, its part of the final errors (attributed total / final total); all 0 without errors."""
        total = sum(s.attributed.total for s in self.steps)
        return tuple(s.attributed.total / total if total else 0.0 for s in self.steps)

    @property
    def limiting_step(self) -> str | None:
        """The step with the most final errors attributed (ties: the earliest); None without errors."""
        counts = [s.attributed.total for s in self.steps]
        best = max(counts)
        return None if best == 0 else self.steps[counts.index(best)].name

    def step(self, name: str) -> StepAttribution:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def __add__(self, other: ChainAttribution) -> ChainAttribution:
        names = [s.name for s in self.steps]
        if [s.name for s in other.steps] != names or other.iou_threshold != self.iou_threshold:
            raise InvalidMetricParameter("attribution", "steps", "can only add results of the same steps and IoU "
                                         f"threshold ({names} at {self.iou_threshold})")
        return ChainAttribution(tuple(a + b for a, b in zip(self.steps, other.steps, strict=True)),
                                self.iou_threshold, self.clips + other.clips)

    def to_dict(self) -> dict[str, Any]:
        return {"clips": self.clips, "iou_threshold": self.iou_threshold, "final": self.final.to_dict(),
                "limiting_step": self.limiting_step,
                "steps": [{"name": s.name, "agreement": s.figures.to_dict(), "errors": s.errors.to_dict(),
                           "introduced": s.introduced.to_dict(), "removed": s.removed.to_dict(),
                           "attributed": s.attributed.to_dict(), "share": share}
                          for s, share in zip(self.steps, self.shares, strict=True)]}


def combine(results: Iterable[ChainAttribution]) -> ChainAttribution:
    """The sum of several clips' results (at least one)."""
    it = iter(results)
    try:
        total = next(it)
    except StopIteration:
        raise InvalidMetricParameter("attribution", "clips", "nothing to combine") from None
    for r in it:
        total = total + r
    return total
