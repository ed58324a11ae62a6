"""Guardrail tables: max step, hysteresis, drift step-down, and the move they make together."""

from __future__ import annotations

import math

import pytest

from analysis.recommend import Guardrails, Hysteresis, MaxStep, StepDown
from analysis.recommend.exceptions import InvalidConfig

INF = math.inf
TAUS = [0.99, 0.95, 0.90, 0.85, 0.80]
RATES = [0.05, 0.12, 0.20, 0.30, 0.45]


@pytest.mark.parametrize(("points", "current", "proposed", "allowed"), [
    (0.10, 0.0, 0.05, True),
    (0.10, 0.0, 0.10, True),     # exactly the step
    (0.10, 0.2, 0.3, True),      # 0.3 − 0.2 is 0.09999999999999998 or 0.1 + ulp: allowed
    (0.10, 0.0, 0.1000001, False),
    (0.10, 0.3, 0.1, True),      # lowering is never limited
    (1.00, 0.0, 1.0, True),
])
def test_max_step(points: float, current: float, proposed: float, allowed: bool) -> None:
    assert MaxStep(points).allows(current, proposed) is allowed


@pytest.mark.parametrize(("min_gain", "current", "proposed", "worth"), [
    (0.02, 0.10, 0.13, True),
    (0.02, 0.10, 0.12, True),    # exactly the gain
    (0.02, 0.10, 0.115, False),
    (0.02, 0.10, 0.10, False),   # no gain
    (0.00, 0.10, 0.10, False),   # even without hysteresis a raise must gain something
    (0.00, 0.10, 0.1001, True),
])
def test_hysteresis(min_gain: float, current: float, proposed: float, worth: bool) -> None:
    assert Hysteresis(min_gain).worth_raising(current, proposed) is worth


@pytest.mark.parametrize(("drift", "current", "threshold"), [
    (True, 0.9, INF), (True, INF, INF), (False, 0.9, 0.9), (False, INF, INF),
])
def test_step_down_on_drift_goes_to_automation_zero(drift: bool, current: float, threshold: float) -> None:
    assert StepDown().threshold(drift, current) == threshold


# passed: how many candidates (from 0.99 down) the fixed sequence certified
@pytest.mark.parametrize(("step", "gain", "passed", "current", "action", "tau"), [
    (0.10, 0.02, 0, INF, "hold", INF),    # nothing certified, nothing ships
    (0.10, 0.02, 3, INF, "raise", 0.99),  # 0.95 would be +12 points: the step allows only 0.99 (+5)
    (0.10, 0.02, 3, 0.99, "raise", 0.95),  # +7 points
    (0.10, 0.02, 5, 0.90, "raise", 0.85),  # +10 points exactly; 0.80 would be +25
    (0.10, 0.02, 3, 0.90, "hold", 0.90),   # already at the lowest certified τ
    (0.10, 0.02, 2, 0.90, "lower", 0.95),  # 0.90 not certified: down at once to the lowest certified
    (0.10, 0.02, 0, 0.90, "lower", INF),   # nothing certified: nothing ships
    (0.10, 0.10, 2, 0.99, "hold", 0.99),   # +7 points is below the hysteresis of 10
    (0.05, 0.02, 3, INF, "raise", 0.99),   # +5 points exactly
    (0.04, 0.02, 3, INF, "hold", INF),     # the first candidate is already beyond the step
    (1.00, 0.02, 5, INF, "raise", 0.80),   # no step limit: straight to the lowest certified
    (1.00, 0.02, 5, 0.80, "hold", 0.80),
])
def test_move(step: float, gain: float, passed: int, current: float, action: str, tau: float) -> None:
    rails = Guardrails(MaxStep(step), Hysteresis(gain))
    current_rate = 0.0 if math.isinf(current) else RATES[TAUS.index(current)]
    assert rails.move(TAUS, RATES, passed, current, current_rate) == (action, tau)


def test_repeated_updates_never_flap_between_two_thresholds() -> None:
    """Small wobbles of the estimated rates around the hysteresis gap leave the threshold alone."""
    rails = Guardrails(MaxStep(0.10), Hysteresis(0.02))
    current, history = 0.95, []
    for wobble in [0.0, 0.004, -0.004, 0.003, -0.002] * 4:
        rates = [0.05, 0.12 + wobble, 0.135 + wobble / 2, 0.30, 0.45]
        action, current = rails.move(TAUS, rates, 3, current, rates[TAUS.index(current)])
        history.append(action)
    assert set(history) == {"hold"} and current == 0.95


@pytest.mark.parametrize("build", [lambda: MaxStep(0.0), lambda: MaxStep(1.5), lambda: Hysteresis(-0.1),
                                   lambda: Hysteresis(2.0)])
def test_invalid_guardrails(build: object) -> None:
    with pytest.raises(InvalidConfig):
        build()  # type: ignore[operator]
