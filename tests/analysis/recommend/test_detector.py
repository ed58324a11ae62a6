"""The CUSUM e-detector: closed form against the recursion, alarms by hand, false alarms and delay in simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.recommend import DetectorState, DriftDetector
from analysis.recommend.detector import _cusum
from analysis.recommend.exceptions import InvalidConfig
from tests.analysis.recommend.population import confidence_weighted_pi

TARGET = 0.95


def test_closed_form_matches_the_recursion() -> None:
    rng = np.random.default_rng(0)
    steps, start = rng.normal(0.0, 1.0, size=(4, 300)), np.array([-0.5, 0.0, 0.3, 4.0])
    log_m, expected = start.copy(), []
    for t in range(steps.shape[1]):
        log_m = steps[:, t] + np.maximum(log_m, 0.0)
        expected.append(log_m.copy())
    np.testing.assert_allclose(_cusum(start, steps), np.array(expected).T, rtol=0, atol=1e-9)


@pytest.mark.parametrize(("threshold", "failures_to_alarm"), [
    (10.0, 1),      # one failure: e = 1 + 10·0.95 = 10.5 ≥ 10
    (100.0, 2),     # 10.5² = 110.25
    (1000.0, 3),    # 10.5³ = 1157.6
    (1200.0, 4),
])
def test_alarm_after_consecutive_failures(threshold: float, failures_to_alarm: int) -> None:
    detector = DriftDetector(threshold=threshold, shares=(0.5,))  # λ = 0.5 / (1·0.05) = 10
    accepted = np.zeros(10, dtype=bool)
    state, alarm = detector.fold(DetectorState(), accepted, np.ones(10), TARGET, max_weight=1.0)
    assert alarm is not None and alarm.index == failures_to_alarm - 1
    assert state.n == failures_to_alarm and state.ratio.estimate == 0.0


def test_accepted_frames_never_alarm() -> None:
    state, alarm = DriftDetector(threshold=2.0).fold(DetectorState(), np.ones(5000, dtype=bool), np.full(5000, 7.0),
                                                     TARGET, max_weight=50.0)
    assert alarm is None and state.statistic <= 0.0 and state.n == 5000


def test_chunked_folds_equal_one_fold() -> None:
    rng = np.random.default_rng(1)
    accepted, weight = rng.random(3000) < 0.97, 1.0 / confidence_weighted_pi(rng.uniform(0.5, 1, 3000))
    detector = DriftDetector()
    whole, alarm = detector.fold(DetectorState(), accepted, weight, TARGET, 50.0)
    assert alarm is None
    chunked = DetectorState()
    for part in np.array_split(np.arange(3000), [5, 6, 1000, 2999]):
        chunked, _ = detector.fold(chunked, accepted[part], weight[part], TARGET, 50.0)
    assert chunked.log_cusum == pytest.approx(whole.log_cusum, abs=1e-9)
    assert chunked.statistic == pytest.approx(whole.statistic, abs=1e-9) and chunked.n == whole.n


def _run(rng: np.random.Generator, detector: DriftDetector, before: tuple[float, int], after: float, horizon: int,
         weighted: bool) -> int | None:
    """Index of the first alarm among ``horizon`` audited frames, acceptance ``before`` then ``after``."""
    p_before, change = before
    p = np.where(np.arange(horizon) < change, p_before, after)
    accepted = rng.random(horizon) < p
    weight = 1.0 / confidence_weighted_pi(rng.uniform(0.5, 1.0, horizon)) if weighted else np.ones(horizon)
    _, alarm = detector.fold(DetectorState(), accepted, weight, TARGET, 50.0 if weighted else 1.0)
    return None if alarm is None else alarm.index


@pytest.mark.slow
@pytest.mark.parametrize("weighted", [False, True])
def test_false_alarm_rate_at_the_target(weighted: bool) -> None:
    """Acceptance exactly at the target, the worst pre-change case: P(alarm within H frames) ≤ H / A."""
    detector, horizon, runs = DriftDetector(threshold=1000.0), 200, 400
    rng = np.random.default_rng(7)
    alarms = sum(_run(rng, detector, (TARGET, horizon), TARGET, horizon, weighted) is not None for _ in range(runs))
    bound = horizon / detector.threshold
    assert alarms / runs <= bound, f"{alarms}/{runs} false alarms within {horizon} frames (bound {bound:.2f})"


@pytest.mark.slow
@pytest.mark.parametrize("weighted", [False, True])
def test_average_run_length_to_false_alarm(weighted: bool) -> None:
    """ARL ≥ A: runs at acceptance = target, truncated at 20·A frames (truncation only shortens the mean)."""
    detector, runs = DriftDetector(threshold=200.0), 200
    rng = np.random.default_rng(8)
    cap = int(20 * detector.threshold)
    lengths = [(_run(rng, detector, (TARGET, cap), TARGET, cap, weighted) or cap - 1) + 1 for _ in range(runs)]
    arl = float(np.mean(lengths))
    assert arl >= detector.threshold, f"average run length {arl:.0f} frames < A = {detector.threshold:.0f}"


@pytest.mark.slow
@pytest.mark.parametrize(("weighted", "after", "median_delay"), [
    (False, 0.85, 200), (False, 0.75, 80), (True, 0.85, 350), (True, 0.75, 150),
])
def test_detection_delay_after_a_drop(weighted: bool, after: float, median_delay: int) -> None:
    """Acceptance 0.98 for 500 audited frames, then ``after``: the default detector (A = 10^4) fires soon."""
    detector, change, runs = DriftDetector(), 500, 200
    rng = np.random.default_rng(9)
    alarms = [_run(rng, detector, (0.98, change), after, change + 5000, weighted) for _ in range(runs)]
    early = sum(a is not None and a < change for a in alarms)
    delays = [a - change + 1 for a in alarms if a is not None and a >= change]
    assert early <= 2, f"{early}/{runs} alarms before the change"
    assert len(delays) >= runs - early - 2, "some drops were never detected within 5,000 frames"
    measured = float(np.median(delays))
    assert measured <= median_delay, f"median delay {measured:.0f} audited frames (expected ≤ {median_delay})"


@pytest.mark.parametrize("kwargs", [{"threshold": 1.0}, {"threshold": -5.0}, {"shares": ()}, {"shares": (0.5, 1.5)},
                                    {"shares": (0.0,)}])
def test_invalid_detector(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidConfig):
        DriftDetector(**kwargs)  # type: ignore[arg-type]


def test_statistic_is_the_log_mean_of_the_cusums() -> None:
    detector = DriftDetector(threshold=1e9, shares=(0.5, 0.25))
    state, _ = detector.fold(DetectorState(), np.array([False, True, False]), np.ones(3), TARGET, 1.0)
    assert state.statistic == pytest.approx(math.log(np.mean(np.exp(state.log_cusum))))
