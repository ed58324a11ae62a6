"""The weighted ratio state and its interval, against statsmodels, numpy and a
finite-population sampling simulation."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import norm

from analysis.agreement.summary import acceptance_rate
from analysis.stats import RatioState, ratio_interval

SEEDS = [0, 1, 7, 42, 2024]


def _weights(rng: np.random.Generator, n: int) -> np.ndarray:
    """Inverse inclusion probabilities, π in [0.02, 0.5]."""
    return 1.0 / rng.uniform(0.02, 0.5, size=n)


def _detection_counts(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame true positives and TP + FP, with some empty frames."""
    tp = rng.poisson(rng.uniform(0.0, 6.0, size=n))
    fp = rng.poisson(rng.uniform(0.0, 3.0, size=n))
    return tp.astype(np.float64), (tp + fp).astype(np.float64)


# --- (a) x = 1: the Hájek mean and the HC1 sandwich variance of weighted least squares ---


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [2, 3, 25, 400, 5000])
@pytest.mark.parametrize("outcome", ["binary", "continuous"])
def test_mean_matches_statsmodels_wls_hc1(seed: int, n: int, outcome: str) -> None:
    rng = np.random.default_rng(seed)
    if outcome == "binary":
        y = (rng.random(n) < rng.uniform(0.1, 0.9)).astype(np.float64)
        if np.ptp(y) == 0:  # keep a non-zero residual so the relative check is meaningful
            y[0] = 1.0 - y[0]
    else:
        y = rng.uniform(0.0, 1.0, size=n)
    w = _weights(rng, n)

    fit = sm.WLS(y, np.ones((n, 1)), weights=w).fit(cov_type="HC1")
    state = RatioState().add(y, 1.0, w)

    assert state.n == n
    assert state.estimate == pytest.approx(float(fit.params[0]), rel=1e-9, abs=0.0)
    assert state.variance == pytest.approx(float(fit.bse[0]) ** 2, rel=1e-9, abs=0.0)


# --- (b) general ratio: precision-like TP / (TP + FP) per frame ---


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [2, 10, 300, 4000])
def test_general_ratio_matches_direct_formula(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    y, x = _detection_counts(rng, n)
    x[0], y[0] = max(x[0], 2.0), 1.0  # at least one object and a non-zero residual
    w = _weights(rng, n)

    r = np.sum(w * y) / np.sum(w * x)
    v = n / (n - 1) * np.sum(w**2 * (y - r * x) ** 2) / np.sum(w * x) ** 2
    state = RatioState().add(y, x, w)

    assert state.n == n
    assert state.estimate == pytest.approx(float(r), rel=1e-12, abs=0.0)
    assert state.variance == pytest.approx(float(v), rel=1e-9, abs=0.0)
    kish = np.sum(w * x) ** 2 / np.sum((w * x) ** 2)
    assert state.kish_n == pytest.approx(float(kish), rel=1e-12, abs=0.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_general_ratio_matches_wls_of_per_frame_ratio(seed: int) -> None:
    """Over frames with x > 0 the ratio is the WLS mean of y/x with weights w·x, and its
    linearised variance is that regression's HC1 variance — an independent route."""
    rng = np.random.default_rng(seed)
    n = 800
    y, x = _detection_counts(rng, n)
    keep = x > 0
    y, x = y[keep], x[keep]
    w = _weights(rng, len(x))

    fit = sm.WLS(y / x, np.ones((len(x), 1)), weights=w * x).fit(cov_type="HC1")
    state = RatioState().add(y, x, w)

    assert state.estimate == pytest.approx(float(fit.params[0]), rel=1e-9, abs=0.0)
    assert state.variance == pytest.approx(float(fit.bse[0]) ** 2, rel=1e-9, abs=0.0)


def test_degenerate_states() -> None:
    empty = RatioState()
    assert math.isnan(empty.estimate)
    assert math.isnan(empty.variance)
    assert empty.kish_n == 0.0
    one = RatioState().add(1.0, 1.0, 3.0)
    assert one.estimate == 1.0
    assert math.isnan(one.variance)  # n/(n-1) undefined for a single observation
    no_objects = RatioState().add([0.0, 0.0], [0.0, 0.0], [1.0, 2.0])
    assert math.isnan(no_objects.estimate)
    assert math.isnan(no_objects.variance)


# --- (c) folding in chunks and merging equals adding everything at once ---


def _assert_states_close(got: RatioState, want: RatioState) -> None:
    assert got.n == want.n
    for f in fields(RatioState):
        assert getattr(got, f.name) == pytest.approx(getattr(want, f.name), rel=1e-12, abs=0.0), f
    assert got.estimate == pytest.approx(want.estimate, rel=1e-12, abs=0.0)
    assert got.variance == pytest.approx(want.variance, rel=1e-12, abs=0.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_chunked_fold_and_merge_equals_single_fold(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    y, x = _detection_counts(rng, n)
    w = _weights(rng, n)
    whole = RatioState().add(y, x, w)

    cuts = np.sort(rng.choice(np.arange(1, n), size=int(rng.integers(2, 40)), replace=False))
    parts = [RatioState().add(yc, xc, wc) for yc, xc, wc in zip(
        np.split(y, cuts), np.split(x, cuts), np.split(w, cuts), strict=True)]

    sequential = RatioState()
    for part in parts:
        sequential = sequential.merge(part)
    _assert_states_close(sequential, whole)

    # Merge in a shuffled order and as a balanced tree, as parallel workers would.
    order = rng.permutation(len(parts))
    level = [parts[i] for i in order]
    while len(level) > 1:
        level = [a.merge(b) for a, b in zip(level[::2], level[1::2], strict=False)] + (
            [level[-1]] if len(level) % 2 else [])
    _assert_states_close(level[0], whole)

    # Folding chunk after chunk into one running state.
    running = RatioState()
    for yc, xc, wc in zip(np.split(y, cuts), np.split(x, cuts), np.split(w, cuts), strict=True):
        running = running.add(yc, xc, wc)
    _assert_states_close(running, whole)


@pytest.mark.parametrize("seed", SEEDS)
def test_one_observation_at_a_time_equals_single_fold(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    y, x = _detection_counts(rng, n)
    w = _weights(rng, n)
    state = RatioState()
    for yi, xi, wi in zip(y.tolist(), x.tolist(), w.tolist(), strict=True):
        state = state.add(yi, xi, wi)
    _assert_states_close(state, RatioState().add(y, x, w))


def test_merge_with_empty_state_is_identity_and_merge_commutes() -> None:
    rng = np.random.default_rng(3)
    a = RatioState().add(*_detection_counts(rng, 50), _weights(rng, 50))
    b = RatioState().add(*_detection_counts(rng, 70), _weights(rng, 70))
    assert a.merge(RatioState()) == a
    assert RatioState().merge(a) == a
    _assert_states_close(a.merge(b), b.merge(a))
    assert a.merge(b).n == 120


def test_scalar_arguments_broadcast_against_arrays() -> None:
    y = np.array([1.0, 0.0, 1.0, 1.0])
    w = np.array([2.0, 5.0, 1.0, 10.0])
    _assert_states_close(RatioState().add(y, 1.0, w), RatioState().add(y, np.ones(4), w))
    _assert_states_close(RatioState().add(y), RatioState().add(y, np.ones(4), np.ones(4)))


# --- (d) the interval stays in [0, 1] and contains the estimate ---


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [2, 5, 30, 500])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_interval_inside_unit_range_and_contains_estimate(
    seed: int, n: int, confidence: float
) -> None:
    rng = np.random.default_rng(seed)
    w = _weights(rng, n)
    for y, x in [
        ((rng.random(n) < 0.7).astype(np.float64), np.ones(n)),  # acceptance
        _detection_counts(rng, n),  # precision
    ]:
        state = RatioState().add(y, x, w)
        got = ratio_interval(state, confidence)
        assert got.method == "hajek-wilson" and got.confidence == confidence
        if math.isnan(state.estimate):
            assert (got.lower, got.upper) == (0.0, 1.0)
            continue
        assert 0.0 <= got.lower < got.upper <= 1.0, (state, got)
        if 0.0 < state.estimate < 1.0:  # exact 0 and 1 are tested on their own below
            assert got.lower < state.estimate < got.upper, (state, got)


BOUNDARY_FRAMES = [1, 2, 3, 5, 10, 20, 37, 50, 100, 250, 1_000, 10_000, 1_000_000]
BOUNDARY_CONFIDENCES = [0.8, 0.9, 0.95, 0.99]


def _boundary_state(outcome: float, frames: int) -> RatioState:
    """Every frame has the same outcome; integer weights 1, 2, 3, 1, ... keep sums exact."""
    return RatioState().add(np.full(frames, outcome), 1.0, 1.0 + np.arange(frames) % 3)


@pytest.mark.parametrize("frames", BOUNDARY_FRAMES)
@pytest.mark.parametrize("confidence", BOUNDARY_CONFIDENCES)
@pytest.mark.parametrize("outcome", [0.0, 1.0])
def test_interval_at_estimate_0_or_1_is_sane_up_to_rounding(
    outcome: float, frames: int, confidence: float
) -> None:
    state = _boundary_state(outcome, frames)
    got = ratio_interval(state, confidence)
    assert state.estimate == outcome
    assert 0.0 <= got.lower < got.upper <= 1.0, got
    assert got.lower - 1e-15 <= state.estimate <= got.upper + 1e-15, got
    # At a boundary the effective sample size falls back to Kish's, so the interval is the
    # Wilson interval of 0 (or all) successes out of kish_n.
    n = state.kish_n
    z2 = float(norm.ppf(0.5 + confidence / 2)) ** 2
    far = (1.0 + z2 / n) ** -1 * z2 / n  # Wilson's far bound at p = 0: z²/(n + z²)
    if outcome == 0.0:
        assert got.upper == pytest.approx(far, rel=1e-9)
    else:
        assert got.lower == pytest.approx(1.0 - far, rel=1e-9)


def test_interval_at_estimate_0_or_1_reaches_the_boundary_exactly() -> None:
    misses = []
    for frames in BOUNDARY_FRAMES:
        for confidence in BOUNDARY_CONFIDENCES:
            lower = ratio_interval(_boundary_state(0.0, frames), confidence).lower
            upper = ratio_interval(_boundary_state(1.0, frames), confidence).upper
            if lower != 0.0:
                misses.append(f"0 over {frames} frames @{confidence}: lower={lower!r}")
            if upper != 1.0:
                misses.append(f"1 over {frames} frames @{confidence}: upper={upper!r}")
    assert not misses, f"{len(misses)} boundary misses: " + "; ".join(misses)


def test_precision_of_exactly_one_gives_nondegenerate_interval() -> None:
    tp = np.array([3.0, 1.0, 4.0, 2.0, 5.0])
    w = np.array([2.0, 1.0, 4.0, 1.5, 3.0])
    state = RatioState().add(tp, tp, w)  # no false positives anywhere
    got = ratio_interval(state, 0.95)
    assert state.estimate == 1.0
    assert state.variance == 0.0  # a Wald interval would collapse to the point 1
    assert got.upper == 1.0
    assert 0.0 < got.lower < 1.0


def test_empty_state_interval_is_unit_range() -> None:
    got = ratio_interval(RatioState(), 0.9)
    assert (got.lower, got.upper, got.confidence) == (0.0, 1.0, 0.9)


# --- (e) coverage under unequal-probability (Poisson) sampling of a finite population ---


@pytest.mark.slow
def test_weighted_acceptance_covers_population_truth_where_unweighted_is_biased() -> None:
    rng = np.random.default_rng(20240611)
    population, replications, confidence = 20_000, 500, 0.95

    # A fixed population: latent difficulty, acceptance falling with difficulty, drawn once.
    difficulty = rng.normal(size=population)
    rank = (np.argsort(np.argsort(difficulty)) + 0.5) / population  # in (0, 1)
    p_accept = 1.0 / (1.0 + np.exp(-(2.5 - 4.0 * rank)))
    accepted = rng.random(population) < p_accept
    truth = float(accepted.mean())

    # A confidence-weighted router samples hard frames more often: π from 0.02 to 0.5.
    pi = 0.02 + 0.48 * rank**4
    assert pi.min() >= 0.02 and pi.max() <= 0.5
    expected_n = float(pi.sum())
    assert 1_000 <= expected_n <= 3_000, expected_n
    weight = 1.0 / pi

    included = rng.random((replications, population)) < pi  # Poisson sampling, all at once
    est_w = np.empty(replications)
    est_u = np.empty(replications)
    width_w = np.empty(replications)
    cover_w = np.zeros(replications, dtype=bool)
    cover_u = np.zeros(replications, dtype=bool)
    for r in range(replications):
        mask = included[r]
        outcomes = accepted[mask]
        weighted = acceptance_rate(outcomes, weight[mask], confidence, weighted=True)
        plain = acceptance_rate(outcomes, np.ones(len(outcomes)), confidence, weighted=False)
        est_w[r], est_u[r] = weighted.estimate, plain.estimate
        width_w[r] = weighted.upper - weighted.lower
        cover_w[r] = weighted.lower <= truth <= weighted.upper
        cover_u[r] = plain.lower <= truth <= plain.upper
        assert plain.estimate == pytest.approx(outcomes.mean(), rel=1e-12)

    coverage_w, coverage_u = float(cover_w.mean()), float(cover_u.mean())
    bias_w, bias_u = float(est_w.mean()) - truth, float(est_u.mean()) - truth
    mc_se_w = float(est_w.std(ddof=1)) / math.sqrt(replications)
    mc_se_u = float(est_u.std(ddof=1)) / math.sqrt(replications)
    # The interval is only as wide as the estimator's real spread warrants (a [0, 1]
    # interval would also "cover").
    width_ratio = float(width_w.mean()) / (2 * 1.959964 * float(est_w.std(ddof=1)))
    report = (
        f"truth={truth:.4f} E[n]={expected_n:.0f} mean n={included.sum(axis=1).mean():.0f}; "
        f"weighted: coverage={coverage_w:.3f} bias={bias_w:+.5f} (MC se {mc_se_w:.5f}) "
        f"width/empirical width={width_ratio:.3f}; "
        f"unweighted: coverage={coverage_u:.3f} bias={bias_u:+.5f} (MC se {mc_se_u:.5f})"
    )
    print(report)

    assert coverage_w >= 0.93, report
    assert abs(bias_w) < 4 * mc_se_w, report
    assert 0.8 < width_ratio < 1.5, report
    assert bias_u < -5 * mc_se_u, report
    assert coverage_u < 0.5, report
