"""The budget cap: audits per hour stay within the budget (beyond floor-rate draws), paced over the hour."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from analysis.policy.automation import AutomationPolicy, FrameInfo
from analysis.sampling import AuditFloor, BudgetCapped, ConfidenceWeighted, Router, RouterState, SamplingState, Uniform
from analysis.sampling.exceptions import InvalidPolicy

HOUR = 3600.0
FLOOR = 0.005
INNER = ConfidenceWeighted(scale=0.5, power=2.0, floor=FLOOR)  # ≈ 0.0467 on average over U(0.5, 1): ~168 an hour


def _hours(budget: int, hours: int = 12, seed: int = 0) -> tuple[Counter[int], Counter[int], Counter[int]]:
    """Audits per hour, floor-rate draws after the budget was spent, audits in each hour's last quarter."""
    rng = np.random.default_rng(seed)
    router = Router(AutomationPolicy(default=0.5), BudgetCapped(INNER, per_window=budget, floor=FLOOR),
                    floor=AuditFloor(FLOOR))
    state = RouterState()
    audits, late, last_quarter = Counter[int](), Counter[int](), Counter[int]()
    for i, confidence in enumerate(rng.uniform(0.5, 1.0, size=int(hours * HOUR))):
        used_before = state.sampling.used if state.sampling.window == int(i // HOUR) else 0
        state, decision = router.route(state, FrameInfo(f"f{i}", float(confidence), time=float(i)))
        if decision.route == "manual":
            hour = int(i // HOUR)
            audits[hour] += 1
            late[hour] += int(used_before >= budget)
            last_quarter[hour] += int(i % HOUR >= 0.75 * HOUR)
    return audits, late, last_quarter


@pytest.mark.slow
@pytest.mark.parametrize("budget", [60, 100])
def test_audits_per_hour_respect_the_budget(budget: int) -> None:
    audits, late, last_quarter = _hours(budget)
    for hour, count in audits.items():
        drawn = count - late[hour]
        assert drawn <= budget, f"hour {hour}: {drawn} audits drawn within a budget of {budget}"
        # beyond the budget only floor-rate draws: the floor keeps π > 0 (~0.5% of 3,600 frames at most)
        assert late[hour] <= 25, f"hour {hour}: {late[hour]} floor-rate audits after the budget was spent"
    mean = sum(audits.values()) / len(audits)
    assert mean <= 1.1 * budget, f"mean {mean:.1f} audits per hour against a budget of {budget}"
    assert mean >= 0.8 * budget, f"mean {mean:.1f} audits per hour: the cap wastes the budget"
    spread = sum(last_quarter.values()) / sum(audits.values())
    assert spread >= 0.10, f"only {spread:.0%} of audits in each hour's last quarter: the budget is not paced"


def test_no_scaling_while_demand_fits_the_budget() -> None:
    capped = BudgetCapped(INNER, per_window=10_000, floor=FLOOR)
    state = SamplingState()
    for i, confidence in enumerate(np.linspace(0.5, 1.0, 500)):
        frame = FrameInfo(f"f{i}", float(confidence), time=float(i))
        assert capped.probability(frame, state) == INNER.probability(frame, state)
        state = capped.observe(state, frame, sampled=i % 3 == 0)


@pytest.mark.parametrize(("used", "pi"), [(0, 0.5), (9, 0.5), (10, 0.02), (15, 0.02)])
def test_spent_budget_leaves_the_floor(used: int, pi: float) -> None:
    capped = BudgetCapped(Uniform(0.5), per_window=10, floor=0.02)
    state = SamplingState(window=0, used=used, demand=10.0, last_demand=0.0)
    frame = FrameInfo("f", 0.9, time=HOUR - 1.0)  # one second left: the demand still to come is one frame
    assert capped.probability(frame, state) == pytest.approx(pi)


@pytest.mark.parametrize(("state", "time", "expected"), [
    (SamplingState(), 10.0, SamplingState(window=0)),
    (SamplingState(window=0, used=5, demand=7.0), 10.0, SamplingState(window=0, used=5, demand=7.0)),
    (SamplingState(window=0, used=5, demand=7.0), HOUR + 1, SamplingState(window=1, last_demand=7.0)),
    (SamplingState(window=0, used=5, demand=7.0), 3 * HOUR, SamplingState(window=3, last_demand=0.0)),
    (SamplingState(window=2, used=5, demand=7.0), HOUR, SamplingState(window=2, used=5, demand=7.0)),  # late frame
])
def test_window_rollover(state: SamplingState, time: float, expected: SamplingState) -> None:
    assert BudgetCapped(Uniform(0.1), per_window=10).current(state, time) == expected


def test_demand_forecast_scales_probability_down() -> None:
    capped = BudgetCapped(Uniform(0.5), per_window=100, floor=0.001)
    # half the hour gone, 1,000 frames asked for 500 audits, 50 used: 1,000 more frames will ask for 500
    state = SamplingState(window=0, used=50, demand=500.0, last_demand=0.0)
    pi = capped.probability(FrameInfo("f", 0.9, time=HOUR / 2), state)
    assert pi == pytest.approx(0.5 * 50 / (0.5 + 500.0 / (HOUR / 2) * (HOUR / 2)))


def test_frames_without_time_share_one_window() -> None:
    capped = BudgetCapped(Uniform(1.0), per_window=3, floor=0.01)
    state = SamplingState()
    pis = []
    for i in range(6):
        frame = FrameInfo(f"f{i}", 0.9, time=math.nan)
        pis.append(capped.probability(frame, state))
        state = capped.observe(state, frame, sampled=True)
    assert pis == [1.0, 1.0, 1.0, 0.01, 0.01, 0.01]


@pytest.mark.parametrize("kwargs", [{"per_window": -1}, {"per_window": 5, "window_seconds": 0.0},
                                    {"per_window": 5, "floor": 0.0}, {"per_window": 5, "warmup_seconds": -1.0}])
def test_invalid_budget(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidPolicy):
        BudgetCapped(Uniform(0.1), **kwargs)  # type: ignore[arg-type]
