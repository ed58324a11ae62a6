"""Which step of a chain limits it, over many compared clips: a pure fold over their step verdicts.

Each machine comparison of a clip carries one :class:`~services.loop.messages.clips.StepVerdict` per step of
the chain: would the clip pass at that step, the step's own errors, and the final errors it introduced
(``attributed_*``, which add up over the steps to the clip's final errors). Folded over clips compared with
inclusion probability π (weight 1/π), per step:

- **accepted share**: Σ w·[accepted] / Σ w (Hájek), the share of all clips that would pass at that step;
- **share of the final errors**: Σ attributed / Σ final errors, unweighted (the compared clips) and weighted
  (Σ w·attributed / Σ w·final: the population's). Both add up to 1 over the steps when there are errors;
- **the limiting step**: the largest weighted share; ties go to the earliest step; None without errors.

The state is plain data (``to_dict`` / ``from_dict``) that merges (``+``), so a stream can checkpoint it;
``initialize / add / result`` as :mod:`services.loop.folds`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from services.loop.messages.clips import StepVerdict
from services.loop.messages.decisions import ComparisonMessage

ERRORS = ("misses", "false_positives", "switches")


@dataclass(frozen=True)
class StepTally:
    """One step's sums over clips: counts, and the same weighted by 1/π (``w_*``)."""

    name: str
    clips: int = 0
    weight: float = 0.0
    accepted: int = 0
    w_accepted: float = 0.0
    misses: int = 0
    false_positives: int = 0
    switches: int = 0
    w_errors: float = 0.0  # Σ w·(misses + false positives + switches)
    attributed_misses: int = 0
    attributed_false_positives: int = 0
    attributed_switches: int = 0
    w_attributed: float = 0.0

    def add(self, v: StepVerdict, weight: float) -> StepTally:
        own = v.misses + v.false_positives + v.switches
        return replace(
            self, clips=self.clips + 1, weight=self.weight + weight, accepted=self.accepted + int(v.accepted),
            w_accepted=self.w_accepted + weight * v.accepted, misses=self.misses + v.misses,
            false_positives=self.false_positives + v.false_positives, switches=self.switches + v.switches,
            w_errors=self.w_errors + weight * own, attributed_misses=self.attributed_misses + v.attributed_misses,
            attributed_false_positives=self.attributed_false_positives + v.attributed_false_positives,
            attributed_switches=self.attributed_switches + v.attributed_switches,
            w_attributed=self.w_attributed + weight * v.attributed)

    def __add__(self, other: StepTally) -> StepTally:
        if other.name != self.name:
            raise ValueError(f"step {self.name!r} cannot be merged with step {other.name!r}")
        return replace(self, **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)
                                if f.name != "name"})

    @property
    def attributed(self) -> int:
        return self.attributed_misses + self.attributed_false_positives + self.attributed_switches


@dataclass(frozen=True)
class StepShare:
    """One step over the folded clips (NaN where there is nothing to divide by)."""

    name: str
    clips: int
    accepted: int
    accepted_share: float  # Σ w·[accepted] / Σ w
    misses: int
    false_positives: int
    switches: int
    errors_per_clip: float  # Σ w·own errors / Σ w
    attributed_misses: int
    attributed_false_positives: int
    attributed_switches: int
    share: float  # attributed / final errors, the compared clips
    weighted_share: float  # Σ w·attributed / Σ w·final errors

    @property
    def attributed(self) -> int:
        return self.attributed_misses + self.attributed_false_positives + self.attributed_switches


@dataclass(frozen=True)
class StepShares:
    """Per step of the chain, in chain order: which steps the final errors come from, over many clips."""

    steps: tuple[StepShare, ...]
    clips: int
    final_errors: int
    limiting: str | None  # the largest weighted share (ties: the earliest step); None without errors
    limiting_unweighted: str | None

    def line(self) -> str:
        """One line for a terminal: each step's weighted share of the final errors and its attributed errors."""
        parts = ", ".join(f"{s.name} {_pct(s.weighted_share)} ({s.attributed:,})" for s in self.steps)
        return (f"errors introduced per step over {self.clips:,} compared clips ({self.final_errors:,} errors): "
                f"{parts or '-'}; limiting step: {self.limiting or '-'}")

    def to_dict(self) -> dict[str, Any]:
        steps = [_finite({**asdict(s), "attributed": s.attributed}) for s in self.steps]
        return {"clips": self.clips, "final_errors": self.final_errors, "limiting": self.limiting,
                "limiting_unweighted": self.limiting_unweighted, "steps": steps}


@dataclass(frozen=True)
class StepSharesState:
    """The fold's state: one tally per step (empty before the first clip)."""

    steps: tuple[StepTally, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [asdict(t) for t in self.steps]}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> StepSharesState:
        return cls(tuple(StepTally(**t) for t in doc["steps"]))

    def __add__(self, other: StepSharesState) -> StepSharesState:
        if not other.steps:
            return self
        if not self.steps:
            return other
        _same_steps([t.name for t in self.steps], [t.name for t in other.steps])
        return StepSharesState(tuple(a + b for a, b in zip(self.steps, other.steps, strict=True)))


def initialize() -> StepSharesState:
    return StepSharesState()


def add(state: StepSharesState, verdicts: Sequence[StepVerdict], weight: float = 1.0) -> StepSharesState:
    """``state`` with one clip's verdicts (chain order) compared with weight ``weight`` (1/π)."""
    if not verdicts:
        raise ValueError("a clip's step verdicts: at least one step")
    if not (math.isfinite(weight) and weight > 0):
        raise ValueError(f"weight: must be finite and > 0, got {weight!r}")
    tallies = state.steps or tuple(StepTally(v.name) for v in verdicts)
    _same_steps([t.name for t in tallies], [v.name for v in verdicts])
    return StepSharesState(tuple(t.add(v, weight) for t, v in zip(tallies, verdicts, strict=True)))


def result(state: StepSharesState) -> StepShares:
    final = sum(t.attributed for t in state.steps)
    w_final = sum(t.w_attributed for t in state.steps)
    shares = [_ratio(t.attributed, final) for t in state.steps]
    weighted = [_ratio(t.w_attributed, w_final) for t in state.steps]
    rows = tuple(StepShare(
        name=t.name, clips=t.clips, accepted=t.accepted, accepted_share=_ratio(t.w_accepted, t.weight),
        misses=t.misses, false_positives=t.false_positives, switches=t.switches,
        errors_per_clip=_ratio(t.w_errors, t.weight), attributed_misses=t.attributed_misses,
        attributed_false_positives=t.attributed_false_positives, attributed_switches=t.attributed_switches,
        share=s, weighted_share=w) for t, s, w in zip(state.steps, shares, weighted, strict=True))
    names = [t.name for t in state.steps]
    return StepShares(rows, state.steps[0].clips if state.steps else 0, final, _largest(names, weighted),
                      _largest(names, shares))


def step_shares(clips: Iterable[tuple[Sequence[StepVerdict], float]]) -> StepShares:
    """The fold over (a clip's verdicts, its weight 1/π) pairs."""
    state = initialize()
    for verdicts, weight in clips:
        state = add(state, verdicts, weight)
    return result(state)


def of_comparisons(comparisons: Iterable[ComparisonMessage]) -> StepShares:
    """The fold over the machine comparisons of clips among ``comparisons``, each weighted 1/π."""
    return step_shares((c.steps, 1.0 / c.inclusion_prob) for c in comparisons
                       if c.kind == "machine" and c.steps)


def _pct(share: float) -> str:
    return "-" if math.isnan(share) else f"{share:.1%}"


def _same_steps(ours: list[str], theirs: list[str]) -> None:
    if ours != theirs:
        raise ValueError(f"steps: a clip of chain {theirs} folded with clips of chain {ours}")


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def _largest(names: list[str], shares: list[float]) -> str | None:
    best: tuple[float, str] | None = None
    for name, share in zip(names, shares, strict=True):
        if math.isfinite(share) and share > 0 and (best is None or share > best[0]):
            best = (share, name)
    return None if best is None else best[1]


def _finite(doc: dict[str, Any]) -> dict[str, Any]:
    """NaN as None (JSON has no NaN)."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in doc.items()}
