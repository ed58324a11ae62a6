"""The betting confidence sequence: closed-form cases, the paper's CS as reference, folds, bad input."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from analysis.exceptions import InvalidInput
from analysis.gate import BettingSequence, SequenceState
from tests.analysis.gate.reference import betting_cs

SEEDS = [0, 1, 7, 42]


def _run(seq: BettingSequence, accepted: list[bool] | np.ndarray, weight: float | np.ndarray = 1.0) -> SequenceState:
    a = np.asarray(accepted, dtype=bool)
    return seq.extend(SequenceState(), a, np.broadcast_to(weight, a.shape))[0]


# --- closed form: while every bet sits at its cap c/m, k accepted frames in a row give
#     ((1 + m) / (2m))^k >= 1/α, i.e. the lower bound 1 / (2·(1/α)^(1/k) − 1) rounded down
#     to the grid; k rejected frames mirror it on the upper side.


@pytest.mark.parametrize(
    ("k", "lower", "upper_after_k_rejected"),
    [
        (1, 0.0, 1.0),  # one frame can never reach 1/α = 20: (1 + m)/(2m) · ... needs m < 0
        (2, 0.125, 0.875),  # 1 / (2·√20 − 1) = 0.1259
        (3, 0.225, 0.775),  # 0.2258
        (10, 0.588, 0.412),  # 0.5887
        (50, 0.890, 0.110),  # 0.8901
        (115, 0.949, 0.051),  # 0.94986: one frame short of proving 0.95
        (116, 0.950, 0.050),  # 0.95028
    ],
)
def test_runs_of_identical_outcomes_match_the_closed_form(k: int, lower: float, upper_after_k_rejected: float) -> None:
    seq = BettingSequence(alpha=0.05, target=0.95)
    accepted = _run(seq, [True] * k)
    rejected = _run(seq, [False] * k)
    assert (accepted.lower, accepted.upper) == (lower, 1.0)
    assert (rejected.lower, rejected.upper) == (0.0, upper_after_k_rejected)
    exact = 1.0 / (2.0 * 20.0 ** (1.0 / k) - 1.0) if k > 1 else 0.0
    assert lower <= exact < lower + 0.001


def test_no_data_knows_nothing() -> None:
    state = SequenceState()
    assert (state.n, state.lower, state.upper) == (0, 0.0, 1.0) and math.isnan(state.estimate)
    after, trace = BettingSequence().extend(state, np.array([], dtype=bool), np.array([]))
    assert after == state and trace.lower.size == 0


# --- the paper's CS, written out independently (tests/analysis/gate/reference.py)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mean", [0.3, 0.9, 0.96])
def test_unit_weights_give_the_standard_betting_cs(seed: int, mean: float) -> None:
    rng = np.random.default_rng(seed)
    accepted = rng.random(250) < mean
    seq = BettingSequence(alpha=0.05, target=0.95, resolution=100)
    trace = seq.extend(SequenceState(), accepted, np.ones(accepted.size))[1]
    ref = betting_cs(accepted.tolist(), [1.0] * accepted.size, seq.grid.tolist())
    assert max(np.subtract(ref.lower, ref.upper)) < 0  # no crossing: the window rule never binds
    assert trace.lower.tolist() == ref.lower
    assert trace.upper.tolist() == ref.upper
    assert trace.estimate.tolist() == pytest.approx(ref.estimate, rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_weights_enter_as_w_over_max_weight(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pi = rng.uniform(0.05, 1.0, size=300)
    accepted = rng.random(300) < 0.97 - 0.2 * pi
    seq = BettingSequence(alpha=0.1, max_weight=20.0, target=0.9, resolution=100)
    trace = seq.extend(SequenceState(), accepted, 1.0 / pi)[1]
    ref = betting_cs(accepted.tolist(), (1.0 / pi).tolist(), seq.grid.tolist(), alpha=0.1, max_weight=20.0)
    assert trace.lower.tolist() == ref.lower and trace.upper.tolist() == ref.upper
    hajek = np.cumsum(accepted / pi) / np.cumsum(1.0 / pi)
    assert trace.estimate == pytest.approx(hajek, rel=1e-12)


@pytest.mark.parametrize("pi", [1.0, 0.5, 0.02])
def test_a_constant_sampling_rate_changes_nothing(pi: float) -> None:
    """Sampling every frame with the same π (and declaring it) is the unweighted CS."""
    accepted = np.random.default_rng(3).random(2000) < 0.96
    plain = _run(BettingSequence(target=0.95), accepted)
    sampled = _run(BettingSequence(max_weight=1.0 / pi, target=0.95), accepted, 1.0 / pi)
    assert (sampled.lower, sampled.upper, sampled.log_lower) == (plain.lower, plain.upper, plain.log_lower)


@pytest.mark.parametrize("seed", SEEDS)
def test_bounds_are_monotone_and_ordered(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pi = rng.uniform(0.1, 1.0, size=3000)
    accepted = rng.random(3000) < 0.93
    trace = BettingSequence(max_weight=10.0, target=0.95).extend(SequenceState(), accepted, 1.0 / pi)[1]
    assert np.all(np.diff(trace.lower) >= 0) and np.all(np.diff(trace.upper) <= 0)
    assert np.all(trace.lower < trace.upper)
    assert 0.0 < trace.lower[-1] < trace.upper[-1] < 1.0


# --- the fold


@pytest.mark.parametrize("seed", SEEDS)
def test_one_at_a_time_equals_the_vectorised_path(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pi = rng.choice([1.0, 0.5, 0.25], size=700)
    accepted = rng.random(700) < 0.95
    seq = BettingSequence(max_weight=4.0, target=0.95)
    state = SequenceState()
    lower = []
    for a, p in zip(accepted, pi, strict=True):
        state = seq.add(state, bool(a), 1.0 / p)
        lower.append(state.lower)
    batch, trace = seq.extend(SequenceState(), accepted, 1.0 / pi)
    assert state == batch  # every float, bit for bit
    assert lower == trace.lower.tolist()
    halves = seq.extend(seq.extend(SequenceState(), accepted[:333], 1.0 / pi[:333])[0], accepted[333:], 1.0 / pi[333:])
    assert halves[0] == batch


def test_the_state_is_plain_data() -> None:
    seq = BettingSequence(target=0.95)
    accepted = np.random.default_rng(5).random(400) < 0.97
    state = _run(seq, accepted[:200])
    stored = json.loads(json.dumps(dataclasses.asdict(state)))
    restored = SequenceState.from_dict(stored)
    assert restored == state
    assert seq.extend(restored, accepted[200:], 1.0)[0] == _run(seq, accepted)
    assert len(state.log_lower) < 100  # only the candidates between the bounds are kept


def test_first_rejections_agree_with_the_grid() -> None:
    rng = np.random.default_rng(9)
    runs = rng.random((60, 800)) < rng.uniform(0.9, 0.99, size=(60, 1))
    seq = BettingSequence(target=0.95)
    first = seq.first_rejections(runs, np.ones(runs.shape), 0.95, "lower")
    for row, at in zip(runs, first, strict=True):
        lower = seq.extend(SequenceState(), row, 1.0)[1].lower
        assert at == (int(np.argmax(lower >= 0.95)) + 1 if lower[-1] >= 0.95 else 0)


# --- bad input


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"alpha": 0.0}, "alpha"), ({"alpha": 1.0}, "alpha"), ({"alpha": math.nan}, "alpha"),
        ({"alpha": True}, "alpha"),
        ({"target": 1.0}, "target"), ({"target": -0.5}, "target"),
        ({"max_weight": 0.5}, "max_weight"), ({"max_weight": math.inf}, "max_weight"),
        ({"max_weight": math.nan}, "max_weight"),
        ({"resolution": 0}, "resolution"), ({"resolution": 10.5}, "resolution"),
    ],
)
def test_bad_parameters_raise(kwargs: dict[str, float], where: str) -> None:
    with pytest.raises(InvalidInput) as err:
        BettingSequence(**kwargs)  # type: ignore[arg-type]
    assert err.value.where == where


@pytest.mark.parametrize(
    ("accepted", "weight", "where", "problem"),
    [
        ([1, 2], [1.0, 1.0], "observation 2", "true or false"),
        ([1, 0], [1.0, 0.5], "observation 2", ">= 1"),
        ([1, 0, 1], [1.0, 1.0, math.nan], "observation 3", "finite"),
        ([1], [5.0], "observation 1", "exceeds max_weight 4"),
    ],
)
def test_bad_observations_raise(accepted: list[int], weight: list[float], where: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as err:
        BettingSequence(max_weight=4.0).extend(SequenceState(), np.array(accepted), np.array(weight))
    assert err.value.where == where and problem in err.value.problem


def test_a_state_from_another_grid_is_refused() -> None:
    state = _run(BettingSequence(resolution=1000), [True] * 30)
    with pytest.raises(InvalidInput, match="capitals"):
        BettingSequence(resolution=100).add(state, True)
