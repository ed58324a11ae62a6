"""The gate rule: decisions, strata, the streaming form and the evidence it returns."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from analysis.exceptions import InvalidInput
from analysis.gate import Gate, GateState
from analysis.observations import Observation, Observations


def _observations(outcomes: list[bool] | np.ndarray, pi: float = 1.0, stratum: str = "all") -> list[Observation]:
    return [Observation(f"f{i}", bool(a), pi, stratum) for i, a in enumerate(outcomes)]


def _mixed(
    seed: int, n: int, rates: dict[str, float], pi: dict[str, float] | None = None, share: list[float] | None = None
) -> Observations:
    """Frames from several strata in random order, each with its own acceptance rate and π."""
    rng = np.random.default_rng(seed)
    names = sorted(rates)
    records = []
    for i in range(n):
        s = names[int(rng.choice(len(names), p=share))]
        p = (pi or {}).get(s, 1.0)
        records.append(Observation(f"f{i}", bool(rng.random() < rates[s]), p, s))
    return Observations.of(records)


# k accepted frames in a row prove acceptance above 1 / (2·20^(1/k) − 1) (test_sequences.py):
# 116 prove 0.95, 115 do not; k rejected frames mirror it.
@pytest.mark.parametrize(
    ("outcomes", "target", "decision"),
    [
        ([], 0.95, "inconclusive"),
        ([True] * 115, 0.95, "inconclusive"),
        ([True] * 116, 0.95, "pass"),
        ([True] * 10, 0.5, "pass"),  # 10 in a row prove 0.588
        ([False] * 116, 0.05, "fail"),
        ([False] * 2, 0.9, "fail"),  # 2 rejected in a row already rule out 0.875 and above
        ([True] * 2, 0.9, "inconclusive"),
        ([True, False] * 100, 0.9, "fail"),
        ([True, False] * 100, 0.5, "inconclusive"),
    ],
)
def test_decisions(outcomes: list[bool], target: float, decision: str) -> None:
    result = Gate(target).evaluate(Observations.of(_observations(outcomes)))
    assert result.decision == decision
    assert result.n == len(outcomes)
    assert (result.lower >= target) == (decision == "pass")
    assert (result.upper <= target) == (decision == "fail")


def test_the_result_is_the_evidence_bundle() -> None:
    result = Gate(0.95, alpha=0.05).evaluate(Observations.of(_observations([True] * 300 + [False] * 3)))
    assert (result.decision, result.n, result.method) == ("pass", 303, "betting")
    assert (result.alpha, result.target) == (0.05, 0.95)
    assert result.estimate == pytest.approx(300 / 303)
    assert result.lower <= result.estimate < result.upper
    assert result.failing_strata == () and result.rule == "pooled" and result.stratum is None
    assert result.reason == (
        f"acceptance 0.990 over 303 frames is above the target 0.95 with 95% confidence "
        f"(lower bound {result.lower:.3f}), valid at any stopping time"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.decision = "fail"  # type: ignore[misc]


def test_empty_input_is_inconclusive() -> None:
    result = Gate(0.9).evaluate(Observations.of([]))
    assert (result.decision, result.n, result.lower, result.upper) == ("inconclusive", 0, 0.0, 1.0)
    assert math.isnan(result.estimate) and "no compared frames yet" in result.reason


def test_weighted_estimate_is_hajek() -> None:
    obs = Observations.of(_observations([True] * 10, pi=0.5) + _observations([False] * 10, pi=1.0))
    result = Gate(0.9, max_weight=2.0).evaluate(obs)
    assert result.estimate == pytest.approx(20 / 30)


# --- strata


def test_pooled_rule_lists_failing_strata() -> None:
    obs = _mixed(1, 4000, {"weather=clear": 0.995, "weather=rain": 0.85}, share=[0.8, 0.2])
    result = Gate(0.95).evaluate(obs)
    assert result.decision == "pass"  # the population rate 0.8 · 0.995 + 0.2 · 0.85 = 0.966
    assert result.failing_strata == ("weather=rain",)
    assert "weather=rain is below the target on its own" in result.reason


def test_every_stratum_rule_fails_on_one_bad_stratum() -> None:
    obs = _mixed(1, 4000, {"weather=clear": 0.995, "weather=rain": 0.85})
    result = Gate(0.95, every_stratum=True).evaluate(obs)
    assert (result.decision, result.rule, result.failing_strata) == ("fail", "every-stratum", ("weather=rain",))
    rain = obs.in_stratum("weather=rain")
    assert result.estimate == pytest.approx(rain.accepted.mean())


def test_every_stratum_rule_passes_when_all_pass() -> None:
    obs = _mixed(2, 6000, {"a": 0.995, "b": 0.99, "c": 1.0})
    assert Gate(0.95, every_stratum=True).evaluate(obs).decision == "pass"
    thin = Observations.of(_observations([True] * 20, stratum="d") + [
        Observation(f, bool(a), p, s) for f, a, p, s in
        zip(obs.frame_id, obs.accepted, obs.inclusion_prob, obs.stratum, strict=True)])
    assert Gate(0.95).evaluate(thin).decision == "pass"
    assert Gate(0.95, every_stratum=True).evaluate(thin).decision == "inconclusive"  # 20 frames of d prove little


def test_one_stratum_alone() -> None:
    obs = _mixed(3, 3000, {"a": 0.995, "b": 0.85})
    only_b = Gate(0.95).evaluate(obs, stratum="b")
    assert (only_b.decision, only_b.stratum, only_b.n) == ("fail", "b", len(obs.in_stratum("b")))
    assert only_b.reason.startswith("acceptance in b ")
    alone = Gate(0.95).evaluate(obs.in_stratum("b"))
    assert (alone.lower, alone.upper, alone.estimate) == (only_b.lower, only_b.upper, only_b.estimate)
    missing = Gate(0.95).evaluate(obs, stratum="nope")
    assert (missing.decision, missing.n) == ("inconclusive", 0) and "in nope" in missing.reason


def test_strata_are_bonferroni_corrected() -> None:
    gate, obs = Gate(0.95, alpha=0.05), _mixed(4, 500, {"a": 0.9, "b": 0.9, "c": 0.9, "d": 0.9})
    assert gate.sequence(4).alpha == pytest.approx(0.0125)
    state, _ = gate.update(gate.start(["a", "b", "c", "d"]), obs)
    alone = Gate(0.95, alpha=0.0125).evaluate(obs, stratum="a")
    assert (state.strata["a"].lower, state.strata["a"].upper) == (alone.lower, alone.upper)


def test_an_unannounced_stratum_is_refused() -> None:
    gate = Gate(0.95)
    with pytest.raises(InvalidInput, match="'c' is not one of the strata"):
        gate.update(gate.start(["a", "b"]), Observations.of(_observations([True], stratum="c")))


# --- streaming form and trace


def test_streaming_equals_batch_and_the_trace_ends_at_the_result() -> None:
    obs = _mixed(5, 1500, {"a": 0.97, "b": 0.9}, pi={"a": 0.25, "b": 1.0})
    records = [Observation(f, bool(a), p, s) for f, a, p, s in
               zip(obs.frame_id, obs.accepted, obs.inclusion_prob, obs.stratum, strict=True)]
    for gate in (Gate(0.95, max_weight=4.0), Gate(0.95, max_weight=4.0, every_stratum=True)):
        state = gate.start(["a", "b"])
        for r in records:
            state = gate.add(state, r)
        batch, trace = gate.update(gate.start(["a", "b"]), obs)
        assert state == batch
        result = gate.result(batch)
        assert result == gate.evaluate(obs)
        last = len(trace) - 1
        assert (trace.decision[last], trace.lower[last], trace.upper[last]) == (
            result.decision, result.lower, result.upper)
        assert trace.failing_strata(last) == result.failing_strata
        assert trace.n.tolist() == list(range(1, len(obs) + 1))


def test_the_state_is_plain_data() -> None:
    gate = Gate(0.95)
    state, _ = gate.update(gate.start(["a", "b"]), _mixed(6, 300, {"a": 0.97, "b": 0.9}))
    assert isinstance(state, GateState)
    stored = json.loads(json.dumps(dataclasses.asdict(state)))
    assert stored["pooled"]["n"] == 300 and GateState.from_dict(stored) == state


def test_first_decisions_match_the_trace() -> None:
    rng = np.random.default_rng(8)
    runs, n = 80, 1500
    accepted = rng.random((runs, n)) < rng.uniform(0.9, 1.0, size=(runs, 1))
    pi = rng.choice([1.0, 0.5], size=(runs, n))
    gate = Gate(0.95, max_weight=2.0)
    first = gate.first_decisions(accepted, 1.0 / pi)
    assert 0 < (first.passed_at > 0).sum() < runs and (first.failed_at > 0).sum() > 0
    for i in range(runs):
        obs = Observations.of([Observation(str(k), bool(a), p)
                               for k, (a, p) in enumerate(zip(accepted[i], pi[i], strict=True))])
        decisions = np.array(gate.trace(obs).decision)
        for kind, at in (("pass", first.passed_at[i]), ("fail", first.failed_at[i])):
            hits = np.flatnonzero(decisions == kind)
            assert at == (hits[0] + 1 if hits.size else 0)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"target": 0.0}, "target"), ({"target": 1.0}, "target"), ({"target": 0.9, "alpha": 0.0}, "alpha"),
        ({"target": 0.9, "alpha": 1.5}, "alpha"), ({"target": 0.9, "method": "wilson"}, "method"),
        ({"target": 0.9, "max_weight": 0.0}, "max_weight"), ({"target": 0.9, "resolution": -1}, "resolution"),
    ],
)
def test_bad_parameters_raise(kwargs: dict[str, object], where: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Gate(**kwargs)  # type: ignore[arg-type]
    assert err.value.where == where and err.value.source == "gate"


def test_a_weight_above_max_weight_is_refused() -> None:
    with pytest.raises(InvalidInput, match="observation 2: weight 1/π exceeds max_weight 1"):
        Gate(0.9).evaluate(Observations.of(_observations([True]) + _observations([True], pi=0.5)))
