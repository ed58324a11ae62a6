"""The rollout gate: may the machine's labels be trusted at the target acceptance rate?

A rule as a small pure value: ``Gate(target, alpha, ...)``. It answers pass, fail
or inconclusive with its evidence, and the chance that it ever answers wrongly —
pass while acceptance is below the target, or fail while it is at or above it —
is at most α however often it is asked (the confidence sequences of
:mod:`analysis.gate.sequences`).

Several strata: by default the decision is about the pooled acceptance of the
whole stream (1/π weights make it the population rate across strata), tested at
α; beside it each stratum has its own confidence sequences at α/k (Bonferroni
over the k strata), so the list of failing strata is right about all of them at
once with probability ≥ 1 − α. With ``every_stratum`` the decision is about the
worst stratum instead: pass only when every stratum passes and fail as soon as
one fails, all at α/k, so a wrong answer again has probability ≤ α. k is the
number of strata named when the state starts (by :meth:`Gate.evaluate`, the
strata present in the data); a live gate should name the policy's strata up
front, since the level cannot change once frames have been seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.annotations.model_types import FloatArray
from analysis.exceptions import InvalidInput
from analysis.gate.evidence import FirstDecisions, GateResult, GateTrace, Rule, decide, reason
from analysis.gate.sequences import BettingSequence, SequenceState, SequenceTrace, check_open_unit
from analysis.observations import Observation, Observations

METHODS = ("betting",)


@dataclass(frozen=True)
class GateState:
    """Plain data: the pooled sequence state and, with several strata, one per stratum."""

    pooled: SequenceState = field(default_factory=SequenceState)
    strata: Mapping[str, SequenceState] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> GateState:
        """The state back from ``dataclasses.asdict`` after a JSON round trip."""
        return cls(SequenceState.from_dict(doc["pooled"]),
                   {k: SequenceState.from_dict(v) for k, v in doc["strata"].items()})


@dataclass(frozen=True)
class Gate:
    """Pass when acceptance is proven ≥ ``target``, fail when proven below, at error ≤ ``alpha``.

    ``max_weight`` is 1/π_min, the inverse of the router's sampling floor: the bets must
    be sized before a frame's weight is seen, so the largest possible weight is an input,
    and a heavier observation is an error. 1 (the default) means every compared frame
    was annotated for sure (π = 1).
    """

    target: float
    alpha: float = 0.05
    method: str = "betting"
    max_weight: float = 1.0
    every_stratum: bool = False
    resolution: int = 1000

    def __post_init__(self) -> None:
        check_open_unit("target", self.target)
        check_open_unit("alpha", self.alpha)
        if self.method not in METHODS:
            raise InvalidInput("gate", "method", f"unknown method {self.method!r}, expected one of {METHODS}")
        self.sequence()  # validates max_weight and resolution

    @property
    def rule(self) -> Rule:
        return "every-stratum" if self.every_stratum else "pooled"

    def sequence(self, strata: int = 1) -> BettingSequence:
        """The confidence sequence at level α/strata."""
        return BettingSequence(self.alpha / strata, self.max_weight, self.target, self.resolution)

    def evaluate(self, observations: Observations, stratum: str | None = None) -> GateResult:
        """The decision after all ``observations`` (only those of ``stratum`` if given)."""
        chosen, strata = self._scope(observations, stratum)
        state, _ = self.update(self.start(strata), chosen)
        return self.result(state, stratum)

    def trace(self, observations: Observations, stratum: str | None = None) -> GateTrace:
        """The decision after each observation, as a controller polling after every frame sees it."""
        chosen, strata = self._scope(observations, stratum)
        return self.update(self.start(strata), chosen)[1]

    def start(self, strata: Sequence[str] = ()) -> GateState:
        """An empty state; with two or more ``strata`` each gets its own sequences."""
        names = sorted(set(strata))
        return GateState(strata={s: SequenceState() for s in names} if len(names) > 1 else {})

    def add(self, state: GateState, observation: Observation) -> GateState:
        """The state after one more observation."""
        return self.update(state, Observations.of([observation]))[0]

    def update(self, state: GateState, observations: Observations) -> tuple[GateState, GateTrace]:
        """The state after a batch (vectorised), and the gate's answer after each observation."""
        pooled, trace = self.sequence().extend(state.pooled, observations.accepted, observations.weight)
        strata, columns = self._strata(state, observations)
        new = GateState(pooled, {s: st for s, (st, _) in strata.items()})
        return new, self._compose(state.pooled.n, trace, columns)

    def result(self, state: GateState, stratum: str | None = None) -> GateResult:
        """The decision and its evidence for a state."""
        def one(s: SequenceState) -> SequenceTrace:
            return SequenceTrace(*(np.array([x]) for x in (s.estimate, s.lower, s.upper)))

        row = self._compose(state.pooled.n - 1, one(state.pooled), {k: one(s) for k, s in state.strata.items()})
        draft = GateResult(
            decision=row.decision[0], n=state.pooled.n, estimate=float(row.estimate[0]), lower=float(row.lower[0]),
            upper=float(row.upper[0]), method=self.method, alpha=self.alpha, target=self.target,
            failing_strata=row.failing_strata(0), reason="", rule=self.rule, max_weight=self.max_weight,
            stratum=stratum,
        )
        return replace(draft, reason=reason(draft))

    def first_decisions(self, accepted: npt.ArrayLike, weight: npt.ArrayLike) -> FirstDecisions:
        """Simulations, vectorised across runs (rows): when each run's pooled gate first passes or fails.

        The same tests at the target as :meth:`trace`; the only difference would be a step where
        both sides reject the same mean at once (evidence against any constant rate), which the
        trace skips and this counts.
        """
        seq = self.sequence()
        low = seq.first_rejections(accepted, weight, self.target, "lower")
        high = seq.first_rejections(accepted, weight, self.target, "upper")
        passed = np.where((low > 0) & ((high == 0) | (low < high)), low, 0)
        failed = np.where((high > 0) & ((low == 0) | (high < low)), high, 0)
        return FirstDecisions(passed, failed)

    def _scope(self, observations: Observations, stratum: str | None) -> tuple[Observations, list[str]]:
        if stratum is not None:
            return observations.in_stratum(stratum), []
        return observations, sorted(set(observations.stratum))

    def _strata(
        self, state: GateState, observations: Observations
    ) -> tuple[dict[str, tuple[SequenceState, SequenceTrace]], dict[str, SequenceTrace]]:
        """Each stratum's sequence over its own observations, and its bounds filled forward to every row."""
        if not state.strata:
            return {}, {}
        labels = np.array(observations.stratum, dtype=object)
        unknown = sorted(set(observations.stratum) - set(state.strata))
        if unknown:
            raise InvalidInput("gate", "stratum", f"{unknown[0]!r} is not one of the strata the gate started with")
        seq = self.sequence(len(state.strata))
        done, filled = {}, {}
        for name, before in state.strata.items():
            rows = np.flatnonzero(labels == name)
            after, sub = seq.extend(before, observations.accepted[rows], observations.weight[rows])
            done[name] = (after, sub)
            filled[name] = SequenceTrace(*(
                _fill(rows, getattr(sub, k), start, len(observations))
                for k, start in (("estimate", before.estimate), ("lower", before.lower), ("upper", before.upper))
            ))
        return done, filled

    def _compose(self, before: int, pooled: SequenceTrace, strata: Mapping[str, SequenceTrace]) -> GateTrace:
        names = tuple(sorted(strata))
        rows = pooled.lower.size
        failing = np.array([strata[s].upper <= self.target for s in names], dtype=bool).T.reshape(rows, len(names))
        estimate, lower, upper = pooled.estimate, pooled.lower, pooled.upper
        if self.every_stratum and names:
            stack = {k: np.array([getattr(strata[s], k) for s in names]) for k in ("estimate", "lower", "upper")}
            estimate = _nanmin(stack["estimate"])
            lower, upper = stack["lower"].min(axis=0), stack["upper"].min(axis=0)
        n = before + np.arange(1, rows + 1, dtype=np.int64)
        return GateTrace(n, estimate, lower, upper, decide(lower, upper, self.target), names, failing)


def _fill(rows: npt.NDArray[np.int64], values: FloatArray, start: float, size: int) -> FloatArray:
    """Values known at ``rows`` carried forward to every row; ``start`` before the first."""
    last = np.searchsorted(rows, np.arange(size), side="right") - 1
    out: FloatArray = np.where(last >= 0, values[np.maximum(last, 0)] if values.size else start, start)
    return out


def _nanmin(stack: FloatArray) -> FloatArray:
    """Column minimum ignoring NaN (NaN where the whole column is NaN), without numpy's warning."""
    out: FloatArray = np.fmin.reduce(stack, axis=0)
    return out
