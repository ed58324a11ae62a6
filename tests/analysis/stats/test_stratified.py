"""The stratified estimate: against scipy's standard errors, against ratio_interval, and by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.stats import RatioState, ratio_interval
from analysis.stats.stratified import stratified_ratio

POPULATION = {"clear": (6000, 0.97), "rain": (3000, 0.90), "night": (1000, 0.60)}


def test_simple_random_samples_match_scipy_standard_errors() -> None:
    rng = np.random.default_rng(3)
    samples = {h: (rng.random(n) < p).astype(float) for h, (n, p) in
               {"a": (40, 0.9), "b": (25, 0.6), "c": (60, 0.99)}.items()}
    sizes = {"a": 500.0, "b": 200.0, "c": 1300.0}
    result = stratified_ratio({h: (sizes[h], RatioState().add(y)) for h, y in samples.items()})
    total = sum(sizes.values())
    expected_mean = sum(sizes[h] / total * y.mean() for h, y in samples.items())
    expected_se = math.sqrt(sum((sizes[h] / total * stats.sem(y)) ** 2 for h, y in samples.items()))
    assert result.estimate == pytest.approx(expected_mean, rel=1e-12)
    assert math.sqrt(result.variance) == pytest.approx(expected_se, rel=1e-12)
    assert result.lower < result.estimate < result.upper
    assert result.n == 125


def test_one_stratum_is_the_plain_ratio_interval() -> None:
    state = RatioState().add([1, 1, 0, 1, 1, 1, 0, 1], 1.0, [1, 2, 4, 1, 4, 2, 1, 4])
    result, plain = stratified_ratio({"all": (1234.0, state)}), ratio_interval(state)
    assert (result.estimate, result.lower, result.upper) == pytest.approx((state.estimate, plain.lower, plain.upper))


@pytest.mark.parametrize(("strata", "estimate", "lower", "upper"), [
    ({"a": (10.0, RatioState().add([1.0])), "b": (10.0, RatioState().add([1.0, 0.0]))}, 0.75, 0.0, 1.0),
    ({"a": (10.0, RatioState()), "b": (10.0, RatioState().add([1.0, 0.0]))}, math.nan, 0.0, 1.0),
    ({}, math.nan, 0.0, 1.0),
])
def test_strata_without_a_variance_give_the_whole_unit_interval(
    strata: dict[str, tuple[float, RatioState]], estimate: float, lower: float, upper: float,
) -> None:
    result = stratified_ratio(strata)
    assert (result.lower, result.upper) == (lower, upper)
    assert result.estimate == pytest.approx(estimate, nan_ok=True)


def test_empty_strata_are_skipped() -> None:
    state = RatioState().add([1.0, 0.0, 1.0])
    assert stratified_ratio({"a": (5.0, state), "b": (0.0, RatioState())}).estimate == pytest.approx(2 / 3)


def test_all_accepted_is_a_wilson_interval_below_one() -> None:
    result = stratified_ratio({"a": (10.0, RatioState().add(np.ones(30))), "b": (5.0, RatioState().add(np.ones(9)))})
    assert result.estimate == 1.0 and result.upper == 1.0 and 0.9 < result.lower < 1.0


def test_coverage_under_poisson_sampling_is_nominal() -> None:
    """Per stratum π_h (0.02, 0.05, 0.2) on a fixed population: the 95 % interval covers the population rate."""
    rng = np.random.default_rng(12)
    pis = {"clear": 0.02, "rain": 0.05, "night": 0.2}
    population = {h: (rng.random(n) < p).astype(float) for h, (n, p) in POPULATION.items()}
    truth = np.concatenate(list(population.values())).mean()
    covered = []
    for _ in range(1500):
        strata = {}
        for h, y in population.items():
            take = rng.random(y.size) < pis[h]
            strata[h] = (float(y.size), RatioState().add(y[take], 1.0, 1.0 / pis[h]))
        result = stratified_ratio(strata)
        covered.append(result.lower <= truth <= result.upper)
    assert 0.93 <= np.mean(covered) <= 0.97  # one standard error at 1500 runs is 0.006
