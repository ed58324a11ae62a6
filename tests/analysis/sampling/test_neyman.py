"""Neyman allocation: the formula by hand, against a numerical optimiser, and as a policy fed evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from analysis.policy.automation import FrameInfo
from analysis.sampling import SamplingState, StratumEvidence, build_policy, parse_params
from analysis.sampling.exceptions import InvalidPolicy
from analysis.sampling.neyman import NeymanAllocation, neyman_probabilities, shrunk_spread

STATE = SamplingState()


def pi_of(policy: object, stratum: str) -> float:
    assert isinstance(policy, NeymanAllocation)
    return policy.probability(FrameInfo("f", 0.9, stratum), STATE)


@pytest.mark.parametrize(("sizes", "spreads", "rate", "floor", "expected"), [
    # no bound active: π_h = rate·N·S_h / Σ N_k S_k = 0.1·1000·S_h/260
    ((600, 300, 100), (0.2, 0.3, 0.5), 0.1, 0.01, (100 * 0.2 / 260, 100 * 0.3 / 260, 100 * 0.5 / 260)),
    # the small spread stratum would get 2.14·0.5 > 1: taken whole (100 audits), the other 200 go to the rest
    ((900, 100), (0.1, 0.5), 0.3, 0.02, (200 / 900, 1.0)),
    # λ·0.01 below the floor: 5 audits at the floor, 95 over the other stratum
    ((100, 900), (0.01, 0.5), 0.1, 0.05, (0.05, 95 / 900)),
    # equal spreads: uniform at the rate
    ((10, 20, 70), (0.3, 0.3, 0.3), 0.2, 0.02, (0.2, 0.2, 0.2)),
    # the floor alone spends more than the budget: everyone at the floor
    ((100, 100), (0.1, 0.5), 0.01, 0.02, (0.02, 0.02)),
    # rate 1: everything audited
    ((100, 100), (0.1, 0.5), 1.0, 0.02, (1.0, 1.0)),
])
def test_allocation_by_hand(
    sizes: tuple[int, ...], spreads: tuple[float, ...], rate: float, floor: float, expected: tuple[float, ...],
) -> None:
    names = [f"s{i}" for i in range(len(sizes))]
    pis = neyman_probabilities(dict(zip(names, sizes, strict=True)), dict(zip(names, spreads, strict=True)),
                               rate, floor)
    assert [pis[h] for h in names] == pytest.approx(expected, abs=1e-12)


def variance(pi: np.ndarray, shares: np.ndarray, spreads: np.ndarray) -> float:
    """Σ W_h² S_h² / n_h per unit of N: Σ W_h S_h² / π_h (the fpc term is constant)."""
    return float(np.sum(shares * spreads**2 / pi))


@pytest.mark.parametrize("seed", range(12))
def test_allocation_minimises_the_variance_like_a_numerical_optimiser(seed: int) -> None:
    rng = np.random.default_rng(seed)
    strata = int(rng.integers(2, 7))
    sizes = rng.integers(10, 5000, strata).astype(float)
    spreads = np.sqrt(rng.uniform(0.5, 1.0, strata) * rng.uniform(0.001, 0.5, strata))
    floor, rate = float(rng.uniform(0.01, 0.05)), float(rng.uniform(0.06, 0.6))
    shares = sizes / sizes.sum()
    names = [f"s{i}" for i in range(strata)]
    ours = neyman_probabilities(dict(zip(names, sizes, strict=True)), dict(zip(names, spreads, strict=True)),
                                rate, floor)
    pi = np.array([ours[h] for h in names])
    assert float(shares @ pi) == pytest.approx(rate, rel=1e-9)  # the budget exactly
    found = minimize(lambda p: variance(p, shares, spreads), np.full(strata, rate), method="SLSQP",
                     bounds=[(floor, 1.0)] * strata, options={"ftol": 1e-14, "maxiter": 500},
                     constraints=[{"type": "eq", "fun": lambda p: shares @ p - rate}])
    assert found.success, found.message
    assert pi == pytest.approx(found.x, abs=2e-4)
    assert variance(pi, shares, spreads) <= found.fun * (1 + 1e-9)
    for _ in range(200):  # brute force: no feasible allocation near it does better
        other = np.clip(pi * np.exp(rng.normal(0, 0.3, strata)), floor, 1.0)
        other = floor + (other - floor) * (rate - floor) / (shares @ other - floor)  # back on the budget
        if other.max() <= 1.0:
            assert variance(other, shares, spreads) >= variance(pi, shares, spreads) * (1 - 1e-12)


@pytest.mark.parametrize(("n", "acceptance", "prior", "weight", "expected"), [
    (0, math.nan, 0.5, 2.0, 0.5),                                     # no evidence: the prior's spread
    (8, 0.5, 0.5, 2.0, 0.5),
    (100, 1.0, 0.5, 2.0, math.sqrt(101 / 102 * 1 / 102)),            # all accepted: small, never 0
    (98, 0.9, 0.5, 2.0, math.sqrt(0.892 * 0.108)),                   # (88.2 + 1) / 100
    (10, 0.0, 0.2, 10.0, math.sqrt(0.1 * 0.9)),                      # (0 + 2) / 20
])
def test_shrunk_spread(n: int, acceptance: float, prior: float, weight: float, expected: float) -> None:
    assert shrunk_spread(StratumEvidence(n, acceptance, 100), prior, weight) == pytest.approx(expected)


def test_without_evidence_it_is_uniform_at_the_rate() -> None:
    policy = NeymanAllocation(rate=0.07)
    assert {pi_of(policy, h) for h in ("a", "b")} == {0.07}
    assert {pi_of(policy.with_evidence({"a": StratumEvidence(frames=0)}), h) for h in ("a", "b")} == {0.07}


def test_evidence_moves_audits_to_the_uncertain_stratum_within_budget() -> None:
    evidence = {"clear": StratumEvidence(400, 0.99, 8000), "night": StratumEvidence(40, 0.6, 2000)}
    policy = NeymanAllocation(rate=0.05, floor=0.01).with_evidence(evidence)
    clear, night = pi_of(policy, "clear"), pi_of(policy, "night")
    assert night > 0.05 > clear >= 0.01
    assert 8000 * clear + 2000 * night == pytest.approx(0.05 * 10_000)
    spreads = {h: shrunk_spread(e, 0.5, 2.0) for h, e in evidence.items()}
    assert night / clear == pytest.approx(spreads["night"] / spreads["clear"])  # no bound active
    assert pi_of(policy, "rain") == pytest.approx(min(1.0, 0.5 * night / spreads["night"]))  # unseen: the prior


def test_a_perfect_stratum_keeps_its_floor() -> None:
    evidence = {"easy": StratumEvidence(10**6, 1.0, 10**7), "hard": StratumEvidence(50, 0.5, 100)}
    policy = NeymanAllocation(rate=0.02, floor=0.005).with_evidence(evidence)
    assert pi_of(policy, "easy") >= 0.005
    assert pi_of(policy, "hard") <= 1.0


def test_built_by_name_from_cli_strings() -> None:
    policy = build_policy("neyman", parse_params(["rate=0.05", "floor=0.01", "prior_weight=4"]))
    assert policy == NeymanAllocation(rate=0.05, floor=0.01, prior_weight=4.0)


@pytest.mark.parametrize(("params", "named"), [
    ({"rate": 0.0}, "rate"),
    ({"rate": 0.1, "floor": 1.5}, "floor"),
    ({"rate": 0.1, "prior": 1.0}, "prior"),
    ({"rate": 0.1, "prior_weight": 0}, "prior_weight"),
    ({"rate": 0.1, "allocation": {"a": 0.5}}, "neyman.allocation"),  # state, not a parameter
])
def test_bad_parameters_are_refused(params: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidPolicy, match=named):
        build_policy("neyman", params)


def test_zero_spread_is_refused_by_the_formula() -> None:
    with pytest.raises(InvalidPolicy, match="spreads"):
        neyman_probabilities({"a": 10}, {"a": 0.0}, 0.1, 0.01)
