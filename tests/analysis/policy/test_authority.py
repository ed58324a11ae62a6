"""The policy authority: pins over recommendations, one numbering, restart from plain state."""

from __future__ import annotations

import json
import math
import random

import pytest

from analysis.policy.authority import DEFAULT, InvalidPin, Pin, PolicyAuthority, Release
from analysis.policy.automation import AutomationPolicy
from analysis.policy.pins import decode, encode

INF = math.inf


def rec(default: float = INF, version: int = 99, **thresholds: float) -> AutomationPolicy:
    return AutomationPolicy(default=default, thresholds=thresholds, version=version)


def pin(stratum: str, tau: float, who: str = "lead") -> Pin:
    return Pin(stratum, tau, who, "why", 1.0)


def test_a_pin_survives_later_recommendations_and_a_release_lets_the_recommender_through() -> None:
    a = PolicyAuthority().recommend(rec(0.9, fog=0.8)).pin(pin("fog", 0.95))
    for later in (rec(0.9, fog=0.5), rec(0.7, fog=0.6, rain=0.7), rec(INF)):
        a = a.recommend(later)
        assert a.effective().threshold("fog") == 0.95
    assert a.effective().threshold("rain") == INF and a.pinned() == {"fog": "lead"}
    a = a.release("fog")
    assert a.effective().threshold("fog") == INF  # the recommender's latest: nothing ships
    assert a.recommend(rec(0.9, fog=0.6)).effective().threshold("fog") == 0.6


def test_the_default_pin_holds_the_default_only() -> None:
    a = PolicyAuthority().pin(pin(DEFAULT, 0.99)).recommend(rec(0.5, fog=0.7))
    e = a.effective()
    assert (e.default, e.threshold("fog"), e.threshold("rain")) == (0.99, 0.7, 0.99)


@pytest.mark.parametrize(("steps", "versions"), [
    # (operation, argument) per step                                        version after each
    ([("recommend", rec(0.9)), ("recommend", rec(0.9, version=5))],          [1, 1]),
    ([("recommend", rec(0.9)), ("recommend", rec(0.8))],                    [1, 2]),
    ([("pin", pin("fog", 0.9)), ("recommend", rec(fog=0.5))],               [1, 1]),
    ([("pin", pin("fog", 0.9)), ("pin", pin("fog", 0.9, "other"))],         [1, 1]),
    ([("recommend", rec(fog=0.9)), ("pin", pin("fog", 0.9))],               [1, 1]),
    ([("release", "fog"), ("recommend", rec())],                            [0, 0]),
    ([("pin", pin("fog", 0.9)), ("release", "fog"), ("release", "fog")],   [1, 2, 2]),
    ([("pin", pin(DEFAULT, INF)), ("recommend", rec(0.5))],                 [0, 0]),
])
def test_versions_move_only_when_the_thresholds_in_force_change(steps: list[tuple[str, object]],
                                                                 versions: list[int]) -> None:
    a, seen = PolicyAuthority(), []
    for op, arg in steps:
        a = getattr(a, op)(arg)
        seen.append(a.version)
    assert seen == versions


def _reference(events: list[tuple[str, object]]) -> list[tuple[int, float, dict[str, float]]]:
    """An independent account: replay the log, rebuild the policy in force from scratch at each step, count changes."""
    pins: dict[str, float] = {}
    latest = AutomationPolicy()
    version, last, out = 0, (INF, {}), []
    for op, arg in events:
        if op == "pin":
            assert isinstance(arg, Pin)
            pins[arg.stratum] = arg.tau
        elif op == "release":
            pins.pop(str(arg), None)
        else:
            assert isinstance(arg, AutomationPolicy)
            latest = arg
        thresholds = dict(latest.thresholds)
        thresholds.update({s: t for s, t in pins.items() if s != DEFAULT})
        now = (pins.get(DEFAULT, latest.default), thresholds)
        if now != last:
            version, last = version + 1, now
        out.append((version, now[0], now[1]))
    return out


def _events(rng: random.Random, n: int) -> list[tuple[str, object]]:
    strata, taus = ["fog", "rain", "night", DEFAULT], [0.5, 0.8, 0.9, INF]
    events: list[tuple[str, object]] = []
    for _ in range(n):
        kind = rng.choice(["pin", "release", "recommend", "recommend"])
        if kind == "pin":
            events.append(("pin", pin(rng.choice(strata), rng.choice(taus), rng.choice(["a", "b"]))))
        elif kind == "release":
            events.append(("release", rng.choice(strata)))
        else:
            chosen = {s: rng.choice(taus) for s in rng.sample(strata[:3], rng.randint(0, 3))}
            events.append(("recommend", rec(rng.choice(taus), rng.randint(0, 50), **chosen)))
    return events


@pytest.mark.parametrize("seed", range(20))
def test_random_histories_agree_with_a_replay_of_the_log_and_restarts_number_on(seed: int) -> None:
    rng = random.Random(seed)
    events = _events(rng, 60)
    expected = _reference(events)
    a, restarts = PolicyAuthority(), 0
    for (op, arg), (version, default, thresholds) in zip(events, expected, strict=True):
        before = a.version
        a = getattr(a, op)(arg)
        assert a.version in (before, before + 1)
        e = a.effective()
        assert (e.version, e.default, dict(e.thresholds)) == (version, default, thresholds)
        if rng.random() < 0.2:  # restart from the checkpointed state, through JSON
            a, restarts = PolicyAuthority.from_state(json.loads(json.dumps(a.state()))), restarts + 1
            assert a.effective() == e
    assert restarts > 0 and expected[-1][0] > 10


def test_taking_over_from_a_published_policy_numbers_on_from_its_version() -> None:
    a = PolicyAuthority.following(rec(0.9, version=41, fog=0.8))
    assert a.effective() == rec(0.9, version=41, fog=0.8)
    assert a.recommend(rec(0.9, fog=0.8)).version == 41
    assert a.pin(pin("fog", 0.7)).version == 42


@pytest.mark.parametrize("record", [
    {"stratum": "", "threshold": 0.5, "pinned_by": "a"},
    {"stratum": "fog", "threshold": 1.5, "pinned_by": "a"},
    {"stratum": "fog", "threshold": float("nan"), "pinned_by": "a"},
    {"stratum": "fog", "threshold": "high", "pinned_by": "a"},
    {"stratum": "fog", "threshold": 0.5},
])
def test_a_bad_pin_record_is_refused(record: dict[str, object]) -> None:
    with pytest.raises(InvalidPin):
        Pin.from_record(record)


def test_a_pin_record_round_trips_with_inf_as_null() -> None:
    p = pin("fog", INF)
    assert p.record()["threshold"] is None and Pin.from_record(json.loads(json.dumps(p.record()))) == p


def test_pins_and_releases_travel_and_are_absorbed_as_they_say() -> None:
    events = [pin("fog", 0.9), pin(DEFAULT, INF, "ops"), Release("fog", "lead", "fixed", 2.0)]
    assert [decode(encode(e)) for e in events] == events
    a = PolicyAuthority().recommend(rec(0.5, fog=0.6))
    for e in events:
        a = a.absorb(decode(encode(e)))
    assert (a.effective().threshold("fog"), a.effective().default, a.pinned()) == (0.6, INF, {DEFAULT: "ops"})


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b'{"stratum": "fog", "threshold": 0.5, "pinned_by": "a"}',
                                 b'{"schema_version": 2, "stratum": "fog", "threshold": 0.5, "pinned_by": "a"}',
                                 b'{"schema_version": 1, "stratum": "fog", "released_by": null, "time": "x"}'])
def test_a_record_that_is_not_a_pin_or_a_release_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidPin):
        decode(raw)
