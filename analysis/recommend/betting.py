"""An anytime-valid test of "acceptance among frames above τ is at least the target", one per candidate τ.

For a candidate τ, each compared frame with confidence ≥ τ gives the increment
``x = w·(A − c)``: weight ``w = 1/π``, acceptance ``A`` ∈ {0, 1}, target ``c``.
A frame that arrived above τ but was not compared contributes ``x = 0``, so over
all frames above τ ``E[x] = θ(τ) − c``, with θ(τ) the acceptance among them
(Horvitz–Thompson: E[S/π] = 1 for the sampling indicator S). The wealth

    K_t = Π_{i ≤ t} (1 + λ_i · x_i),   0 ≤ λ_i ≤ 1 / (w_max · c),

with each λ_i planned from earlier frames only, is a non-negative supermartingale
when θ(τ) < c (the null): the cap keeps every factor ≥ 0 because
``x ≥ −w_max·c``. So is the average of several such wealths. By Ville's
inequality P(sup_t K_t ≥ 1/α) ≤ α under the null: p = 1 / sup_t K_t is an
anytime-valid p-value, valid whenever it is read and under any 1/π weighting
with π ≥ 1/w_max.

The wealth here averages five bettors: the predictable plug-in
λ_i = Σx / (Σx² + c(1 − c)) over earlier frames (at most half the cap), which
adapts to the data, and four constant bets at 0.9, 0.5, 0.25 and 0.125 of the
cap, which win quickly when every frame is accepted. Each fold is numpy over
the batch, and folding in chunks gives the same wealth as folding at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analysis.annotations.model_types import BoolArray, FloatArray
from analysis.stats.ratio import RatioState

PLUG_IN_SHARE = 0.5  # the plug-in bettor stakes at most half the cap: one loss costs at most half its wealth
FIXED_SHARES = (0.9, 0.5, 0.25, 0.125)  # constant bettors, as shares of the cap
BETTORS = 1 + len(FIXED_SHARES)


@dataclass(frozen=True)
class WealthState:
    """One candidate's test: each bettor's log wealth, the mixture's running maximum, the plug-in's sums."""

    log_wealth: tuple[float, ...] = (0.0,) * BETTORS  # plug-in first, then the constant bets
    max_log_wealth: float = 0.0  # log sup_t of the mixture (the mean of the bettors' wealth)
    n: int = 0
    s1: float = 0.0  # Σ x
    s2: float = 0.0  # Σ x²

    @property
    def p_value(self) -> float:
        """1 / sup_t K_t, capped at 1: anytime-valid."""
        return min(1.0, math.exp(-self.max_log_wealth))


@dataclass(frozen=True)
class CandidateState:
    """Everything the recommender keeps about one candidate threshold within an epoch."""

    wealth: WealthState = field(default_factory=WealthState)
    ratio: RatioState = field(default_factory=RatioState)  # Hájek acceptance of frames above τ, for reporting


def bet_cap(target: float, max_weight: float) -> float:
    """Largest bet λ the test may stake when no weight exceeds ``max_weight``."""
    return 1.0 / (max_weight * target)


def fold_wealth(state: WealthState, x: FloatArray, target: float, cap: float) -> WealthState:
    """The test after the increments ``x`` (in arrival order)."""
    if x.size == 0:
        return state
    c1 = state.s1 + np.concatenate(([0.0], np.cumsum(x)))
    c2 = state.s2 + np.concatenate(([0.0], np.cumsum(x * x)))
    plug_in = np.clip(c1[:-1] / (c2[:-1] + target * (1.0 - target)), 0.0, PLUG_IN_SHARE * cap)
    bets = np.vstack([plug_in, *(np.full(x.size, share * cap) for share in FIXED_SHARES)])
    paths = np.asarray(state.log_wealth)[:, None] + np.cumsum(np.log1p(bets * x), axis=1)
    top = paths.max(axis=0)
    mixture = top + np.log(np.exp(paths - top).mean(axis=0))  # log of the bettors' mean wealth
    return WealthState(
        log_wealth=tuple(float(v) for v in paths[:, -1]),
        max_log_wealth=max(state.max_log_wealth, float(mixture.max())),
        n=state.n + x.size, s1=float(c1[-1]), s2=float(c2[-1]),
    )


def fold_candidate(
    state: CandidateState, accepted: BoolArray, weight: FloatArray, target: float, cap: float,
) -> CandidateState:
    """One candidate's state after the frames above its threshold."""
    if accepted.size == 0:
        return state
    y = accepted.astype(np.float64)
    return CandidateState(
        wealth=fold_wealth(state.wealth, weight * (y - target), target, cap),
        ratio=state.ratio.add(y, 1.0, weight),
    )


def passed_prefix(states: tuple[CandidateState, ...], alpha: float) -> int:
    """How many candidates, taken from the most conservative, the fixed sequence rejects at ``alpha``.

    Each null "acceptance above τ_k < target" is tested at the full α in a
    fixed order and the sequence stops at the first non-rejection, so the
    family-wise error stays ≤ α (Learn-then-Test's fixed-sequence procedure).
    """
    level = -math.log(alpha)  # p ≤ α on the log scale: wealth ≥ 1/α
    for k, state in enumerate(states):
        if state.wealth.max_log_wealth < level:
            return k
    return len(states)
