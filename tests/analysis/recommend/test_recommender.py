"""The recommender as a fold: determinism, chunking, strata, automation-rate estimate, human floor,
drift step-down, guardrails through updates, reasons with evidence, and refused inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.observations import Observation
from analysis.policy.automation import ALL, AutomationPolicy
from analysis.recommend import (
    Guardrails,
    Hysteresis,
    MaxStep,
    Recommender,
    RecommenderConfig,
    candidates_at_rates,
)
from analysis.recommend.exceptions import InvalidConfig, InvalidObservations
from tests.analysis.recommend.population import Population, columns, confidence_weighted_pi

POP = Population()
TARGET = 0.9
FREE = Guardrails(MaxStep(1.0), Hysteresis(0.0))  # no guardrails: the test's answer as is


def _recommender(**kwargs: object) -> Recommender:
    return Recommender(RecommenderConfig(target=TARGET, **kwargs))  # type: ignore[arg-type]


def _sample(seed: int, n: int, weighted: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    confidence, accepted = POP.draw(rng, n)
    pi = confidence_weighted_pi(confidence) if weighted else np.ones(n)
    seen = rng.random(n) < pi
    return confidence[seen], accepted[seen], pi[seen]


def test_same_input_same_recommendation() -> None:
    obs = columns(*_sample(0, 20_000))
    rec = _recommender(guardrails=FREE)
    assert repr(rec.calculate(obs, max_weight=1.0)) == repr(rec.calculate(obs, max_weight=1.0))


def test_evidence_does_not_depend_on_how_the_batches_are_cut() -> None:
    obs = columns(*_sample(1, 12_000, weighted=True))
    rec = _recommender()
    whole, _ = rec.update(rec.initial(), obs)
    state = rec.initial()
    for cut in np.array_split(np.arange(len(obs)), 7):
        mask = np.zeros(len(obs), dtype=bool)
        mask[cut] = True
        state, _ = rec.update(state, obs.select(mask))
    for a, b in zip(state.strata[ALL].candidates, whole.strata[ALL].candidates, strict=True):
        assert a.wealth.max_log_wealth == pytest.approx(b.wealth.max_log_wealth, rel=1e-9, abs=1e-12)
        assert a.wealth.n == b.wealth.n and a.ratio.estimate == pytest.approx(b.ratio.estimate, nan_ok=True)
    assert state.strata[ALL].rates() == pytest.approx(whole.strata[ALL].rates())


def test_automation_rate_is_the_weighted_share_above_the_threshold() -> None:
    confidence, accepted, pi = _sample(2, 200_000, weighted=True)
    rec = _recommender(guardrails=FREE, candidates=POP.thresholds_at(np.arange(0.05, 0.6, 0.05)))
    result = rec.calculate(columns(confidence, accepted, pi))
    tau = result.thresholds[ALL]
    assert math.isfinite(tau), result.reason
    w = 1.0 / pi
    assert result.automation_rate == pytest.approx(w[confidence >= tau].sum() / w.sum(), rel=1e-12)
    assert result.automation_rate == pytest.approx(POP.rate(tau), abs=0.01)
    assert result.policy == AutomationPolicy(default=tau, thresholds={}, version=1)


def test_strata_get_their_own_thresholds_and_share_alpha() -> None:
    day, night = _sample(3, 30_000), _sample(4, 30_000)
    obs = columns(*day, stratum="day")
    night_obs = columns(*night, stratum="night", first=len(obs))
    records = [Observation(f, bool(a), float(p), s, float(c)) for o in (obs, night_obs)
               for f, a, p, s, c in zip(o.frame_id, o.accepted, o.inclusion_prob, o.stratum, o.confidence,
                                        strict=True)]
    result = _recommender(strata=("night",), alpha=0.1, guardrails=FREE).calculate(records, max_weight=1.0)
    assert set(result.strata) == {"night", ALL}  # day has no threshold of its own: it falls under ALL
    assert {e.alpha for e in result.strata.values()} == {0.05}
    assert result.policy.thresholds.keys() == {"night"} and result.policy.default == result.thresholds[ALL]
    assert all(math.isfinite(t) for t in result.thresholds.values()), result.reason
    assert result.reason.startswith("night: raise") and "; all: raise" in result.reason


def test_human_floor_beside_machine_agreement() -> None:
    rng = np.random.default_rng(5)
    pairs = [Observation(f"c{i}", bool(rng.random() < 0.96), 0.1) for i in range(2000)]
    obs = columns(*_sample(5, 5000))
    with_floor = _recommender().calculate(obs, pairs, max_weight=1.0)
    assert with_floor.human_floor is not None and with_floor.human_floor.n == 2000
    assert with_floor.human_floor.estimate == pytest.approx(np.mean([p.accepted for p in pairs]))
    assert with_floor.human_floor.lower < with_floor.human_floor.estimate < with_floor.human_floor.upper
    assert with_floor.machine_agreement.estimate == pytest.approx(obs.accepted.mean())
    assert _recommender().calculate(obs, max_weight=1.0).human_floor is None


def test_updates_from_automation_zero_climb_by_at_most_the_max_step() -> None:
    rec = _recommender(guardrails=Guardrails(MaxStep(0.05), Hysteresis(0.01)))
    state, rates, actions = rec.initial(), [0.0], []
    for window in range(12):
        state, result = rec.update(state, columns(*_sample(100 + window, 4000), first=4000 * window), max_weight=1.0)
        assert result.automation_rate - rates[-1] <= 0.05 + 1e-9, result.reason
        rates.append(result.automation_rate)
        actions.append(result.action)
    assert "raise" in actions and set(actions) <= {"raise", "hold"}
    assert rates[-1] >= 0.15, f"automation after 12 windows: {rates}"


def _certified_state(rec: Recommender) -> tuple[object, float]:
    state, result = rec.update(rec.initial(), columns(*_sample(6, 40_000)), max_weight=1.0)
    assert result.action == "raise", result.reason
    return state, result.thresholds[ALL]


def test_drift_steps_down_to_zero_and_restarts_the_evidence() -> None:
    rec = _recommender(guardrails=FREE)
    state, tau = _certified_state(rec)
    rng = np.random.default_rng(7)
    confidence = rng.uniform(tau, 1.0, 3000)
    pi = confidence_weighted_pi(confidence)
    bad = columns(confidence, rng.random(3000) < 0.6, pi, first=10**6)  # the model broke: 60% acceptance above τ
    after, result = rec.update(state, bad)
    evidence = result.strata[ALL]
    assert result.action == "step_down" and math.isinf(result.thresholds[ALL]) and result.automation_rate == 0.0
    assert evidence.drift is not None and evidence.drift.statistic >= evidence.drift.threshold
    assert after.strata[ALL].epoch == 1 and after.version == state.version + 1  # type: ignore[attr-defined]
    assert after.strata[ALL].candidates[0].wealth.n < 3000  # only frames after the alarm count in the new epoch
    assert "step down" in result.reason and "drifted below the target 0.9" in result.reason


def test_healthy_shipped_frames_do_not_step_down() -> None:
    rec = _recommender(guardrails=FREE)
    state, _tau = _certified_state(rec)
    for window in range(5):
        state, result = rec.update(state, columns(*_sample(200 + window, 40_000, weighted=True),  # type: ignore[arg-type]
                                                  first=10**6 * (window + 1)))
        assert result.action in {"hold", "raise"}, result.reason


def test_current_threshold_without_evidence_is_lowered() -> None:
    rec = _recommender()
    state = rec.initial(AutomationPolicy(default=0.8))
    result = rec.update(state, columns(*_sample(8, 500)), max_weight=1.0)[1]
    assert result.action == "lower" and result.thresholds[ALL] > 0.8
    assert result.reason.startswith("lower: τ 0.8 →")


def test_reason_carries_the_evidence() -> None:
    result = _recommender().calculate(columns(*_sample(9, 20_000)), max_weight=1.0)
    chosen = result.strata[ALL].chosen
    assert result.action == "raise" and chosen is not None and chosen.passed
    for text in (f"n = {chosen.n}", f"p = {chosen.p_value:.2g}", f"{chosen.estimate:.3f}", "α = 0.05",
                 f"τ {result.thresholds[ALL]:.4g}"):
        assert text in result.reason
    assert result.reason.count(". ") == 0  # one sentence


def test_hold_reason_names_the_candidate_that_failed() -> None:
    result = _recommender().calculate(columns(*_sample(10, 30)), max_weight=1.0)
    assert result.action == "hold" and "the sequence stopped at τ 0.99" in result.reason


def test_candidates_at_rates_from_earlier_confidences() -> None:
    rng = np.random.default_rng(11)
    taus = candidates_at_rates(rng.beta(4, 1.5, 100_000), [0.05, 0.1, 0.2, 0.1])
    assert len(taus) == 3 and list(taus) == sorted(taus, reverse=True)
    assert [POP.rate(t) for t in taus] == pytest.approx([0.05, 0.1, 0.2], abs=0.005)


@pytest.mark.parametrize(("record", "where"), [
    (Observation("f-9", True, 1.0, confidence=math.nan), "record 2 (frame f-9)"),
    (Observation("f-9", True, 0.01, confidence=0.9), "record 2 (frame f-9)"),
])
def test_observations_the_test_cannot_take(record: Observation, where: str) -> None:
    good = Observation("f-1", True, 1.0, confidence=0.5)
    with pytest.raises(InvalidObservations) as info:
        _recommender().calculate([good, record])
    assert info.value.source == "observations" and info.value.where == where


def test_max_weight_must_bound_the_batch() -> None:
    with pytest.raises(InvalidObservations, match="below the audit floor 1"):
        _recommender().calculate([Observation("f", True, 0.5, confidence=0.9)], max_weight=1.0)


@pytest.mark.parametrize("kwargs", [{"target": 1.0}, {"target": 0.0}, {"alpha": 0.0}, {"alpha": 1.0},
                                    {"candidates": ()}, {"candidates": (0.9, math.inf)}, {"audit_floor": 0.0}])
def test_invalid_config(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidConfig):
        RecommenderConfig(**kwargs)  # type: ignore[arg-type]


def test_config_orders_candidates_and_always_has_all() -> None:
    cfg = RecommenderConfig(candidates=(0.5, 0.9, 0.7, 0.9), strata=("night", "night"))
    assert cfg.candidates == (0.9, 0.7, 0.5) and cfg.strata == ("night", ALL)


def test_policy_threshold_off_the_grid_is_refused() -> None:
    with pytest.raises(InvalidConfig, match="not one of the candidate thresholds"):
        _recommender().initial(AutomationPolicy(default=0.123))


@pytest.mark.parametrize("bound", [0.5, 0.0, -1.0])
def test_max_weight_below_one_is_refused(bound: float) -> None:
    with pytest.raises(InvalidConfig, match="max_weight"):
        _recommender().calculate([Observation("f", True, 1.0, confidence=0.9)], max_weight=bound)
