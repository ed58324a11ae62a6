"""The weighted betting test: a valid p-value at the null boundary, with and without 1/π weights;
chunk-invariant folds; factors that never go negative; the fixed sequence's stopping rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.recommend.betting import (
    BETTORS,
    CandidateState,
    WealthState,
    bet_cap,
    fold_candidate,
    fold_wealth,
    passed_prefix,
)
from tests.analysis.recommend.population import confidence_weighted_pi

ALPHA = 0.05


def _p_value(rng: np.random.Generator, n: int, theta: float, target: float, weighted: bool) -> float:
    """p after ``n`` frames above τ with acceptance θ; weighted: each frame compared with π in [0.02, 0.5]."""
    accepted = rng.random(n) < theta
    if not weighted:
        x = accepted - target
        return fold_wealth(WealthState(), x.astype(float), target, bet_cap(target, 1.0)).p_value
    pi = confidence_weighted_pi(rng.uniform(0.5, 1.0, size=n))
    seen = rng.random(n) < pi
    x = (accepted[seen] - target) / pi[seen]
    return fold_wealth(WealthState(), x, target, bet_cap(target, 50.0)).p_value


@pytest.mark.slow
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("target", [0.8, 0.95])
def test_p_value_is_valid_at_the_null_boundary(weighted: bool, target: float) -> None:
    """θ = target exactly is the hardest null: P(p ≤ α) must stay ≤ α (here with 99.9% Monte Carlo slack)."""
    runs, n = 1000, 3000
    rng = np.random.default_rng(11)
    rejections = sum(_p_value(rng, n, target, target, weighted) <= ALPHA for _ in range(runs))
    bound = stats.binom.ppf(0.999, runs, ALPHA)
    assert rejections <= bound, f"{rejections}/{runs} rejections at θ = target {target} (allowed ≤ {bound:.0f})"


@pytest.mark.parametrize(("weighted", "n"), [(False, 3000), (True, 30_000)])
def test_p_value_rejects_when_acceptance_clears_the_target(weighted: bool, n: int) -> None:
    rng = np.random.default_rng(3)
    p = [_p_value(rng, n, 0.95, 0.9, weighted) for _ in range(20)]
    assert np.mean(np.array(p) <= ALPHA) >= 0.9, f"p-values {np.round(p, 3)} at θ 0.95 vs target 0.9"


def test_folding_in_chunks_equals_folding_at_once() -> None:
    rng = np.random.default_rng(0)
    x = (rng.random(5000) < 0.93) / rng.uniform(0.02, 1.0, 5000) - 0.9
    cap = bet_cap(0.9, 50.0)
    whole = fold_wealth(WealthState(), x, 0.9, cap)
    chunked = WealthState()
    for part in np.array_split(x, [1, 7, 100, 2500, 2501, 4999]):
        chunked = fold_wealth(chunked, part, 0.9, cap)
    assert chunked.n == whole.n == 5000
    assert chunked.max_log_wealth == pytest.approx(whole.max_log_wealth, rel=1e-9)
    assert chunked.log_wealth == pytest.approx(whole.log_wealth, rel=1e-9)
    assert (chunked.s1, chunked.s2) == pytest.approx((whole.s1, whole.s2), rel=1e-9)


def test_failures_at_the_largest_weight_never_make_wealth_negative() -> None:
    target, max_weight = 0.95, 50.0
    cap = bet_cap(target, max_weight)
    x = np.concatenate([np.full(200, max_weight * (1 - target)), np.full(50, -max_weight * target)])
    state = fold_wealth(WealthState(), x, target, cap)
    assert all(math.isfinite(v) for v in state.log_wealth)
    assert len(state.log_wealth) == BETTORS
    assert state.max_log_wealth >= 0.0 and 0.0 < state.p_value <= 1.0


def test_no_frames_leave_the_state_and_p_equal_to_one() -> None:
    empty = np.zeros(0)
    state = fold_candidate(CandidateState(), empty.astype(bool), empty, 0.9, 1.0)
    assert state == CandidateState()
    assert state.wealth.p_value == 1.0


def test_all_accepted_unweighted_frames_reject_quickly() -> None:
    """60 accepted frames in a row against target 0.9 is evidence enough at α = 0.05."""
    state = fold_wealth(WealthState(), np.full(60, 0.1), 0.9, bet_cap(0.9, 1.0))
    assert state.p_value <= ALPHA
    assert fold_wealth(WealthState(), np.full(10, 0.1), 0.9, bet_cap(0.9, 1.0)).p_value > ALPHA


def _candidates(p_values: list[float]) -> tuple[CandidateState, ...]:
    return tuple(CandidateState(wealth=WealthState(max_log_wealth=-math.log(p))) for p in p_values)


@pytest.mark.parametrize(("p_values", "passed"), [
    ([], 0),
    ([0.2, 0.001, 0.001], 0),           # the most conservative fails: nothing passes, whatever follows
    ([0.01, 0.04, 0.06, 0.001], 2),     # stops at the first non-rejection
    ([0.05, 0.05], 2),                  # p = α rejects
    ([0.001] * 4, 4),
])
def test_fixed_sequence_stops_at_first_non_rejection(p_values: list[float], passed: int) -> None:
    assert passed_prefix(_candidates(p_values), ALPHA) == passed
