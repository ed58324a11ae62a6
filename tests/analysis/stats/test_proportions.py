"""Wilson and Clopper–Pearson intervals against statsmodels and scipy."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

from analysis.stats import Interval, clopper_pearson_interval, wilson_interval

ABS = 1e-9

# (successes, n, confidence) — one case per line.
CASES = [
    pytest.param(0, 1, 0.95, id="0/1 @95"),
    pytest.param(1, 1, 0.95, id="1/1 @95"),
    pytest.param(0, 1, 0.99, id="0/1 @99"),
    pytest.param(1, 1, 0.90, id="1/1 @90"),
    pytest.param(0, 10, 0.95, id="0/10 @95 (none)"),
    pytest.param(10, 10, 0.95, id="10/10 @95 (all)"),
    pytest.param(1, 10, 0.95, id="1/10 @95"),
    pytest.param(9, 10, 0.95, id="9/10 @95"),
    pytest.param(5, 10, 0.90, id="5/10 @90"),
    pytest.param(5, 10, 0.99, id="5/10 @99"),
    pytest.param(3, 7, 0.95, id="3/7 @95"),
    pytest.param(0, 50, 0.99, id="0/50 @99 (none)"),
    pytest.param(50, 50, 0.90, id="50/50 @90 (all)"),
    pytest.param(17, 250, 0.95, id="17/250 @95"),
    pytest.param(981, 1_000, 0.99, id="981/1000 @99"),
    pytest.param(0, 1_000_000, 0.95, id="0/1e6 @95 (none, large n)"),
    pytest.param(1, 1_000_000, 0.95, id="1/1e6 @95 (large n)"),
    pytest.param(123_456, 1_000_000, 0.90, id="123456/1e6 @90 (large n)"),
    pytest.param(500_000, 1_000_000, 0.95, id="500000/1e6 @95 (large n)"),
    pytest.param(999_999, 1_000_000, 0.99, id="999999/1e6 @99 (large n)"),
    pytest.param(1_000_000, 1_000_000, 0.99, id="1e6/1e6 @99 (all, large n)"),
]


def _assert_bounds(got: Interval, low: float, high: float, method: str, confidence: float) -> None:
    assert got.lower == pytest.approx(float(low), abs=ABS, rel=0), (got, low, high)
    assert got.upper == pytest.approx(float(high), abs=ABS, rel=0), (got, low, high)
    assert got.method == method
    assert got.confidence == confidence


@pytest.mark.parametrize(("k", "n", "confidence"), CASES)
def test_wilson_matches_statsmodels(k: int, n: int, confidence: float) -> None:
    low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    _assert_bounds(wilson_interval(k, n, confidence), low, high, "wilson", confidence)


@pytest.mark.parametrize(("k", "n", "confidence"), CASES)
def test_clopper_pearson_matches_statsmodels_beta(k: int, n: int, confidence: float) -> None:
    low, high = proportion_confint(k, n, alpha=1 - confidence, method="beta")
    got = clopper_pearson_interval(k, n, confidence)
    _assert_bounds(got, low, high, "clopper-pearson", confidence)


@pytest.mark.parametrize(("k", "n", "confidence"), CASES)
def test_wilson_matches_scipy_binomtest(k: int, n: int, confidence: float) -> None:
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    _assert_bounds(wilson_interval(k, n, confidence), ci.low, ci.high, "wilson", confidence)


@pytest.mark.parametrize(("k", "n", "confidence"), CASES)
def test_clopper_pearson_matches_scipy_binomtest_exact(k: int, n: int, confidence: float) -> None:
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    got = clopper_pearson_interval(k, n, confidence)
    _assert_bounds(got, ci.low, ci.high, "clopper-pearson", confidence)


@pytest.mark.parametrize(("k", "n", "confidence"), CASES)
def test_bounds_ordered_inside_unit_interval_and_cover_estimate(
    k: int, n: int, confidence: float
) -> None:
    for got in (wilson_interval(k, n, confidence), clopper_pearson_interval(k, n, confidence)):
        assert 0.0 <= got.lower < got.upper <= 1.0, got
        if 0 < k < n:  # the boundary cases are checked exactly below
            assert got.lower < k / n < got.upper, got


BOUNDARY_NS = [1, 2, 3, 5, 7, 10, 20, 37, 50, 100, 250, 1_000, 10_000, 1_000_000]
BOUNDARY_CONFIDENCES = [0.8, 0.9, 0.95, 0.99]


@pytest.mark.parametrize("n", BOUNDARY_NS)
@pytest.mark.parametrize("confidence", BOUNDARY_CONFIDENCES)
def test_boundary_cases_are_sane_up_to_rounding(n: int, confidence: float) -> None:
    for k in (0, n):
        for got in (wilson_interval(k, n, confidence), clopper_pearson_interval(k, n, confidence)):
            assert 0.0 <= got.lower < got.upper <= 1.0, got
            assert got.lower - 1e-15 <= k / n <= got.upper + 1e-15, got
    # Clopper–Pearson is exact at the boundary by construction.
    assert clopper_pearson_interval(0, n, confidence).lower == 0.0
    assert clopper_pearson_interval(n, n, confidence).upper == 1.0


def test_wilson_reaches_the_boundary_exactly_at_0_and_n() -> None:
    misses = []
    for n in BOUNDARY_NS:
        for confidence in BOUNDARY_CONFIDENCES:
            lower = wilson_interval(0, n, confidence).lower
            upper = wilson_interval(n, n, confidence).upper
            if lower != 0.0:
                misses.append(f"0/{n} @{confidence}: lower={lower!r}")
            if upper != 1.0:
                misses.append(f"{n}/{n} @{confidence}: upper={upper!r}")
    assert not misses, f"{len(misses)} boundary misses: " + "; ".join(misses)


@pytest.mark.parametrize(
    ("k", "n", "confidence"),
    [
        pytest.param(2.5, 7.0, 0.95, id="2.5/7 @95 (weighted counts)"),
        pytest.param(0.3, 1.7, 0.90, id="0.3/1.7 @90 (weighted counts)"),
        pytest.param(41.25, 60.5, 0.99, id="41.25/60.5 @99 (weighted counts)"),
    ],
)
def test_wilson_fractional_counts_match_statsmodels(k: float, n: float, confidence: float) -> None:
    low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    _assert_bounds(wilson_interval(k, n, confidence), low, high, "wilson", confidence)


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
@pytest.mark.parametrize(
    ("func", "method"),
    [(wilson_interval, "wilson"), (clopper_pearson_interval, "clopper-pearson")],
)
def test_no_observations_gives_unit_interval(
    func: Callable[[int, int, float], Interval], method: str, confidence: float
) -> None:
    assert func(0, 0, confidence) == Interval(0.0, 1.0, method, confidence)


@pytest.mark.parametrize(("k", "n"), [(0, 20), (7, 20), (20, 20), (333, 1000)])
def test_higher_confidence_gives_nested_wider_intervals(k: int, n: int) -> None:
    for func in (wilson_interval, clopper_pearson_interval):
        i90, i95, i99 = (func(k, n, c) for c in (0.90, 0.95, 0.99))
        # 1e-15 of slack: the exact-boundary rounding is tested on its own above.
        assert i99.lower <= i95.lower + 1e-15 and i95.lower <= i90.lower + 1e-15, (i90, i95, i99)
        assert i90.upper <= i95.upper + 1e-15 and i95.upper <= i99.upper + 1e-15, (i90, i95, i99)
        assert i99.upper - i99.lower > i90.upper - i90.lower
