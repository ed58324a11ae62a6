"""Sampling policies as tables: frame in, π out; and the parameters each refuses."""

from __future__ import annotations

import itertools
import math

import pytest

from analysis.policy.automation import FrameInfo
from analysis.sampling import AuditFloor, ConfidenceWeighted, SamplingState, Stratified, Uniform
from analysis.sampling.exceptions import InvalidPolicy

STATE = SamplingState()


def frame(confidence: float = 0.9, stratum: str = "all") -> FrameInfo:
    return FrameInfo("f", confidence, stratum)


@pytest.mark.parametrize("rate", [0.02, 0.3, 1.0])
def test_uniform_gives_its_rate_to_every_frame(rate: float) -> None:
    policy = Uniform(rate)
    assert {policy.probability(frame(c), STATE) for c in (0.0, 0.5, 0.99, math.nan)} == {rate}


@pytest.mark.parametrize(("scale", "power", "floor", "cap", "confidence", "pi"), [
    (1.0, 1.0, 0.02, 1.0, 1.0, 0.02),      # fully confident: the floor, never zero
    (1.0, 1.0, 0.02, 1.0, 0.9, 0.12),      # 1·0.1 + 0.02
    (0.5, 2.0, 0.02, 1.0, 0.5, 0.145),     # 0.5·0.25 + 0.02
    (4.0, 1.0, 0.02, 0.5, 0.5, 0.5),       # capped
    (1.0, 1.0, 0.02, 1.0, 1.7, 0.02),      # confidence above 1 clipped
    (1.0, 1.0, 0.02, 1.0, -0.3, 1.0),      # confidence below 0 clipped, then capped
    (1.0, 1.0, 0.05, 0.8, math.nan, 0.8),  # unknown confidence: the hardest, the cap
    (0.0, 1.0, 0.05, 1.0, 0.1, 0.05),      # scale 0: uniform at the floor
])
def test_confidence_weighted(
    scale: float, power: float, floor: float, cap: float, confidence: float, pi: float,
) -> None:
    policy = ConfidenceWeighted(scale, power, floor, cap)
    assert policy.probability(frame(confidence), STATE) == pytest.approx(pi, abs=1e-12)


def test_confidence_weighted_is_monotone_and_positive() -> None:
    policy = ConfidenceWeighted(scale=0.48 / 0.5, power=1.0, floor=0.02, cap=0.5)
    pis = [policy.probability(frame(c / 100), STATE) for c in range(0, 101)]
    assert all(a >= b for a, b in itertools.pairwise(pis))
    assert min(pis) == pytest.approx(0.02) and max(pis) == 0.5


@pytest.mark.parametrize(("stratum", "pi"), [
    ("night", 0.5),          # 60 audits wanted of 120 expected
    ("day", 60 / 6000),      # below the floor: raised to it
    ("rain", 1.0),           # wants more audits than frames: every frame
    ("fog", 0.1),            # no target: the default
])
def test_stratified_turns_targets_into_probabilities(stratum: str, pi: float) -> None:
    policy = Stratified(targets={"night": 60, "day": 60, "rain": 100}, expected={"night": 120, "day": 6000, "rain": 50},
                        default=0.1, floor=0.001)
    assert policy.probability(frame(stratum=stratum), STATE) == pytest.approx(pi)


def test_stratified_floor_applies() -> None:
    policy = Stratified(targets={"day": 1}, expected={"day": 10_000}, floor=0.02)
    assert policy.probability(frame(stratum="day"), STATE) == 0.02


@pytest.mark.parametrize("build", [
    lambda: Uniform(0.0),
    lambda: Uniform(1.5),
    lambda: ConfidenceWeighted(floor=0.0),
    lambda: ConfidenceWeighted(cap=0.01, floor=0.02),
    lambda: ConfidenceWeighted(power=0.0),
    lambda: ConfidenceWeighted(scale=-1.0),
    lambda: Stratified(targets={"a": 5}, expected={}),
    lambda: Stratified(targets={"a": -1}, expected={"a": 10}),
    lambda: Stratified(targets={}, expected={}, default=0.0),
    lambda: AuditFloor(0.0),
    lambda: AuditFloor(1.2),
])
def test_invalid_parameters_raise(build: object) -> None:
    with pytest.raises(InvalidPolicy):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(("rate", "pi", "floored"), [(0.02, 0.0, 0.02), (0.02, 0.01, 0.02), (0.02, 0.3, 0.3),
                                                     (0.05, 1.0, 1.0), (0.02, 1.4, 1.0)])
def test_audit_floor(rate: float, pi: float, floored: float) -> None:
    floor = AuditFloor(rate)
    assert floor.apply(pi) == floored
    assert floor.max_weight == pytest.approx(1 / rate)


def test_stateless_policies_leave_the_state_alone() -> None:
    state = SamplingState(window=3, used=7, demand=2.5, last_demand=9.0)
    for policy in (Uniform(0.1), ConfidenceWeighted(), Stratified(targets={}, expected={})):
        assert policy.observe(state, frame(), True) is state
