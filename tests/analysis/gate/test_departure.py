"""Why the estimate left the gate's band: unlucky early frames, drift, or not at all; and the detector in simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint

from analysis.exceptions import InvalidInput
from analysis.gate import Gate
from analysis.gate.departure import DETECTOR, detect_drift, explain_band, fixed_time_interval, segments
from analysis.observations import Observation, Observations
from analysis.recommend import DetectorState
from analysis.recommend.config import RecommenderConfig
from analysis.stats import RatioState, ratio_interval

Part = tuple[int, float]


def _stream(seed: int, *parts: Part, weighted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Frames at a rate per part, in order. Weighted: π ∈ {0.25, 1} at random, the π = 0.25 frames
    accepted 0.1 less often than the π = 1 ones (so the weights move the estimate)."""
    rng = np.random.default_rng(seed)
    accepted, weight = [], []
    for n, rate in parts:
        pi = rng.choice([0.25, 1.0], size=n) if weighted else np.ones(n)
        rates = np.where(pi == 1.0, rate + 0.05, rate - 0.05) if weighted else np.full(n, rate)
        accepted.append(rng.random(n) < rates)
        weight.append(1.0 / pi)
    return np.concatenate(accepted), np.concatenate(weight)


def _unlucky(seed: int) -> np.ndarray:
    """The replay's story: a steady 0.5775 throughout, but the first 150 frames came out at 0.48 (72 accepted)."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(np.arange(150) < 72), rng.random(1350) < 0.5775])


def test_an_unlucky_early_sample_is_explained_as_such() -> None:
    accepted = _unlucky(83)
    d = explain_band(accepted, target=0.55)
    band = Gate(0.55).trace(Observations.of([Observation(f"f{i}", bool(a)) for i, a in enumerate(accepted)]))
    assert (d.kind, d.side, d.n, d.drift) == ("unlucky-early", "above", 1500, None)
    assert (d.estimate, d.lower, d.upper) == (band.estimate[-1], band.lower[-1], band.upper[-1])
    assert d.edge == d.upper == pytest.approx(0.538) and d.estimate == pytest.approx(873 / 1500)
    assert d.left_at is not None and d.before is not None and d.after is not None
    # since left_at the estimate has been above the edge, and the frame before it was not
    assert (band.estimate[d.left_at - 1:] > band.upper[d.left_at - 1:]).all()
    assert band.estimate[d.left_at - 2] <= band.upper[d.left_at - 2]
    assert d.edge_set_at == 30 and band.upper[29] == d.edge and band.upper[28] > d.edge
    assert d.before == pytest.approx(accepted[:30].mean()) and d.after == pytest.approx(accepted[30:].mean())
    assert d.before < 0.3 < 0.58 < d.after
    assert d.decision == "fail" and d.interval.lower > d.target  # the gate's α-level error, and the text says so
    assert d.text == (
        "The estimate 0.582 has been above the band's upper edge 0.538 since frame 230: that edge was set by the "
        "first 30 frames, whose acceptance (0.267) was unluckily low next to the 0.588 of the frames since. The drift "
        "detector found no change in the rate, so this is the chance the band allows (at most 5%) of an early sample "
        "pushing an edge past a steady rate; the fixed-time 95% interval [0.557, 0.607] is the better reading of the "
        "rate. The gate keeps its answer, fail against the target 0.55, as its band only narrows and never empties, "
        "although the fixed-time interval lies above the target."
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_drop_mid_run_is_drift_found_after_the_change(seed: int) -> None:
    accepted, weight = _stream(seed, (600, 0.85), (900, 0.55))
    d = explain_band(accepted, weight, target=0.8)
    assert (d.kind, d.side, d.edge) == ("drift", "below", d.lower)
    assert d.drift is not None and d.drift.direction == "down"
    assert 600 < d.drift.alarm_at < 750 and abs(d.drift.change_at - 600) < 40
    assert d.drift.before > 0.8 > 0.6 > d.drift.after
    assert d.drift.statistic >= d.drift.threshold == 1e4
    assert d.drift.current == pytest.approx(accepted[d.drift.alarm_at:].mean())
    assert d.drift.current_interval == fixed_time_interval(accepted[d.drift.alarm_at:], alpha=0.05)
    assert "fell from" in d.text and "The gate does not watch for drift" in d.text
    assert "steps the stratum down to automation 0" in d.text


def test_a_rise_mid_run_is_drift_upwards() -> None:
    d = explain_band(*_stream(4, (600, 0.55), (900, 0.85)), target=0.7)
    assert (d.kind, d.side) == ("drift", "above")
    assert d.drift is not None and d.drift.direction == "up" and d.drift.alarm_at > 600
    assert "rose from" in d.text


@pytest.mark.parametrize(("seed", "target", "decision"), [(0, 0.65, "inconclusive"), (3, 0.65, "pass")])
def test_a_steady_stream_inside_its_band_is_none(seed: int, target: float, decision: str) -> None:
    accepted, weight = _stream(seed, (1500, 0.7))
    d = explain_band(accepted, weight, target=target)
    assert (d.kind, d.side, d.edge, d.left_at, d.drift, d.decision) == ("none", None, None, None, None, decision)
    assert d.lower <= d.estimate <= d.upper
    assert d.text.startswith(f"The estimate {d.estimate:.3f} lies inside the band") and "nothing to explain" in d.text


def test_nothing_compared_yet() -> None:
    d = explain_band([], [], target=0.9)
    assert (d.kind, d.n, d.lower, d.upper, d.decision, d.drift) == ("none", 0, 0.0, 1.0, "inconclusive", None)
    assert math.isnan(d.estimate) and d.text.startswith("No compared frames yet")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_weighted_frames(seed: int) -> None:
    """π ∈ {0.25, 1}: the estimates, splits and intervals are all 1/π-weighted."""
    accepted, weight = _stream(seed, (1500, 0.7), weighted=True)
    steady = explain_band(accepted, weight, target=0.65, max_weight=4.0)
    ratio = RatioState().add(accepted.astype(float), 1.0, weight)
    assert steady.kind == "none" and steady.estimate == pytest.approx(ratio.estimate)
    assert steady.interval == ratio_interval(ratio, 0.95)

    accepted, weight = _stream(seed, (600, 0.85), (900, 0.55), weighted=True)
    d = explain_band(accepted, weight, target=0.8, max_weight=4.0)
    assert d.kind == "drift" and d.drift is not None and d.drift.direction == "down"
    assert 600 < d.drift.alarm_at < 750
    k = d.drift.change_at
    assert d.drift.before == pytest.approx(np.average(accepted[:k], weights=weight[:k]))
    assert d.drift.after == pytest.approx(np.average(accepted[k:], weights=weight[k:]))
    s = d.edge_set_at
    assert s is not None and d.before == pytest.approx(np.average(accepted[:s], weights=weight[:s]))


def test_a_weight_above_max_weight_is_refused() -> None:
    with pytest.raises(InvalidInput, match="exceeds max_weight"):
        explain_band([True, False], [1.0, 4.0], target=0.5, max_weight=2.0)


def test_the_detector_is_the_recommenders_default() -> None:
    assert RecommenderConfig().detector == DETECTOR


def test_a_reference_at_the_runs_own_estimate_would_fire_the_wrong_way_first() -> None:
    """Why the reference is the frames before, not θ̂: against θ̂ the early, higher frames alarm *up*."""
    accepted, weight = _stream(0, (600, 0.85), (900, 0.55))
    theta = accepted.mean()
    _, up = DETECTOR.fold(DetectorState(), ~accepted, weight, 1.0 - theta, 1.0)
    assert up is not None and up.index < 600
    d = detect_drift(accepted, weight, max_weight=1.0)
    assert d is not None and d.direction == "down" and d.alarm_at > 600


@pytest.mark.parametrize(
    ("reference", "starts"),
    [
        ([], []),
        ([0.5], [0]),
        # logits 0, .040, .048, .080, .120: frame 3 is .08 from frame 0's, frame 4 only .04 from frame 3's
        ([0.5, 0.51, 0.512, 0.52, 0.53], [0, 3]),
        ([0.9, 0.5, 0.5, 0.9], [0, 1, 3]),
    ],
)
def test_a_new_reference_where_the_running_one_moved(reference: list[float], starts: list[int]) -> None:
    assert segments(np.array(reference, dtype=np.float64)).tolist() == starts


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_fixed_time_interval_matches_statsmodels(seed: int) -> None:
    """Wilson's interval on the effective sample size of the HC1 sandwich variance of the weighted mean."""
    rng = np.random.default_rng(seed)
    accepted = rng.random(400) < 0.8
    weight = 1.0 / rng.choice([0.25, 0.5, 1.0], size=400)
    fit = sm.WLS(accepted.astype(float), np.ones((400, 1)), weights=weight).fit(cov_type="HC1")
    p, n_eff = float(fit.params[0]), float(fit.params[0] * (1 - fit.params[0]) / fit.bse[0] ** 2)
    low, high = proportion_confint(p * n_eff, n_eff, alpha=0.1, method="wilson")
    interval = fixed_time_interval(accepted, weight, alpha=0.1)
    assert interval.lower == pytest.approx(low) and interval.upper == pytest.approx(high)
    assert interval.confidence == 0.9


# --- simulation: false alarms on steady streams, power on drifting ones ---


def test_steady_streams_rarely_alarm() -> None:
    """200 seeded steady streams of 300–1,500 frames, rates 0.3–0.995, half weighted (π ∈ {0.25, 1}).

    An alarm is needed to call a departure "drift", so the alarm share bounds the share called drift.
    The detector's own bound (P(false alarm within H) ≤ H/A per side, 0.3 for both sides at
    H = 1,500) is loose and only approximate with the reference estimated; measured: 2 of 200
    here (0.5% over 4,000 runs, see the module docstring). Asserted: at most 6 (3%).
    """
    rng = np.random.default_rng(2025)
    alarms = 0
    for run in range(200):
        n, rate, weighted = int(rng.integers(300, 1501)), float(rng.uniform(0.3, 0.995)), run % 2 == 1
        rate = min(rate, 0.945) if weighted else rate  # keep both strata's rates within [0, 1]
        accepted, weight = _stream(int(rng.integers(2**32)), (n, rate), weighted=weighted)
        alarms += detect_drift(accepted, weight, max_weight=4.0 if weighted else 1.0) is not None
    assert alarms <= 6, f"{alarms} of 200 steady streams alarmed"


def test_a_sizeable_change_is_found_in_its_direction_after_it() -> None:
    """100 seeded streams: 200–600 frames at 0.6–0.95, then 900 frames 0.2 lower or higher.

    Measured: 99 of 100 alarmed in the change's direction after the change. Asserted: at least 90.
    """
    rng = np.random.default_rng(17)
    found = 0
    for run in range(100):
        first, rate = int(rng.integers(200, 601)), float(rng.uniform(0.6, 0.95))
        step = -0.2 if run % 2 == 0 else 0.2
        rate = rate if step < 0 else rate - 0.2  # the later rate stays within [0.4, 0.95]
        accepted, weight = _stream(int(rng.integers(2**32)), (first, rate), (900, rate + step))
        d = detect_drift(accepted, weight, max_weight=1.0)
        found += d is not None and d.direction == ("down" if step < 0 else "up") and d.alarm_at > first
    assert found >= 90, f"{found} of 100 changes found in their direction"
