"""The router: rules per frame, determinism and replay, empirical rates against π, strata, consensus."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from analysis.policy.automation import AutomationPolicy, FrameInfo
from analysis.sampling import (
    AuditFloor,
    BudgetCapped,
    ConfidenceWeighted,
    Decision,
    Router,
    RouterState,
    Stratified,
    Uniform,
    unit_hash,
)
from analysis.sampling.exceptions import InvalidPolicy

POLICY = AutomationPolicy(default=0.8, thresholds={"night": 0.95}, version=3)


def _frames(n: int, seed: int = 0, strata: tuple[str, ...] = ("all",)) -> list[FrameInfo]:
    rng = np.random.default_rng(seed)
    return [FrameInfo(f"frame-{seed}-{i}", float(c), strata[i % len(strata)], time=float(i))
            for i, c in enumerate(rng.uniform(0.0, 1.0, size=n))]


def _route_all(router: Router, frames: list[FrameInfo]) -> tuple[RouterState, list[Decision]]:
    state, decisions = RouterState(), []
    for frame in frames:
        state, decision = router.route(state, frame)
        decisions.append(decision)
    return state, decisions


@pytest.mark.parametrize(("confidence", "stratum", "route", "pi"), [
    (0.5, "all", "manual", 1.0),     # below τ 0.8: people, π = 1
    (0.79999, "all", "manual", 1.0),
    (0.9, "night", "manual", 1.0),   # night has its own τ 0.95
    (0.97, "night", None, 0.3),      # eligible: audited with π 0.3 or shipped
    (0.8, "all", None, 0.3),         # τ itself is eligible (confidence ≥ τ)
])
def test_routing_rules(confidence: float, stratum: str, route: str | None, pi: float) -> None:
    router = Router(POLICY, Uniform(0.3))
    for i in range(50):
        frame = FrameInfo(f"f{i}", confidence, stratum)
        _, decision = router.route(RouterState(), frame)
        assert decision.inclusion_prob == pi and decision.policy_version == 3
        want = route or ("manual" if unit_hash(frame.frame_id, router.salt) < pi else "ship")
        assert decision.route == want
        assert decision.copies == (0 if want == "ship" else 1)


def test_audit_probability_never_below_the_floor() -> None:
    router = Router(AutomationPolicy(default=0.0), Uniform(0.001), floor=AuditFloor(0.02))
    _, decisions = _route_all(router, _frames(200))
    assert {d.inclusion_prob for d in decisions} == {0.02}
    weighted = Router(AutomationPolicy(default=0.0), ConfidenceWeighted(scale=0.5, floor=1e-6), floor=AuditFloor(0.05))
    _, decisions = _route_all(weighted, _frames(2000))
    assert min(d.inclusion_prob for d in decisions) == 0.05


def test_replay_reproduces_every_decision() -> None:
    frames = _frames(3000, strata=("all", "night"))
    router = Router(POLICY, BudgetCapped(ConfidenceWeighted(scale=0.6), per_window=40), consensus_share=0.2)
    first_state, first = _route_all(router, frames)
    again_state, again = _route_all(router, frames)
    assert first == again and first_state == again_state
    _other_salt_state, other = _route_all(Router(POLICY, router.sampling, 0.2, salt="replay-2"), frames)
    assert [d.route for d in other] != [d.route for d in first]


def test_state_counts_add_up() -> None:
    state, decisions = _route_all(Router(POLICY, Uniform(0.2), consensus_share=0.3), _frames(5000))
    routes = Counter(d.route for d in decisions)
    assert state.frames == 5000 == state.manual + state.audits + state.shipped
    assert state.shipped == routes["ship"] and state.manual + state.audits == routes["manual"]
    assert state.consensus == sum(d.copies == 2 for d in decisions)


@pytest.mark.parametrize("rate", [0.02, 0.1, 0.5])
def test_empirical_audit_rate_matches_pi(rate: float) -> None:
    router = Router(AutomationPolicy(default=0.0), Uniform(rate))
    n = 20_000
    state, _ = _route_all(router, _frames(n, seed=int(rate * 100)))
    low, high = stats.binom.ppf([0.0005, 0.9995], n, rate)
    assert low <= state.audits <= high, f"{state.audits} audits of {n} at π = {rate} (99.9% range {low:.0f}-{high:.0f})"


def test_empirical_rate_matches_pi_per_confidence_band() -> None:
    router = Router(AutomationPolicy(default=0.0), ConfidenceWeighted(scale=0.48 / 0.5, floor=0.02, cap=0.5))
    _, decisions = _route_all(router, _frames(30_000, seed=5))
    pis = np.array([d.inclusion_prob for d in decisions])
    sampled = np.array([d.route == "manual" for d in decisions])
    for band in np.array_split(np.argsort(pis), 5):
        expected, sd = pis[band].sum(), math.sqrt((pis[band] * (1 - pis[band])).sum())
        z = (sampled[band].sum() - expected) / sd
        assert abs(z) < 4.0, f"band π {pis[band].min():.3f}-{pis[band].max():.3f}: z = {z:.2f}"


def test_stratified_counts_reach_their_targets() -> None:
    targets = {"day": 50.0, "night": 50.0, "rain": 20.0}
    arrivals = {"day": 3000, "night": 300, "rain": 100}  # per hour
    router = Router(AutomationPolicy(default=0.0), Stratified(targets=targets, expected=arrivals, floor=0.001),
                    floor=AuditFloor(0.001))
    hours, counts = 10, Counter[str]()
    state = RouterState()
    for h in range(hours):
        for stratum, n in arrivals.items():
            for i in range(n):
                state, d = router.route(state, FrameInfo(f"{stratum}-{h}-{i}", 0.9, stratum, time=h * 3600.0 + i))
                counts[stratum] += d.route == "manual"
    for stratum, target in targets.items():
        pi = target / arrivals[stratum]
        sd = math.sqrt(hours * arrivals[stratum] * pi * (1 - pi))
        z = (counts[stratum] - hours * target) / sd
        message = f"{stratum}: {counts[stratum]} audits in {hours} h against {hours * target:.0f} (z {z:.2f})"
        assert abs(z) < 4.0, message


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 1.0])
def test_consensus_share_of_manual_tasks(share: float) -> None:
    router = Router(POLICY, Uniform(0.3), consensus_share=share)
    _, decisions = _route_all(router, _frames(20_000, seed=2))
    manual = [d for d in decisions if d.route == "manual"]
    audited = [d for d in manual if d.inclusion_prob < 1.0]
    pairs = sum(d.copies == 2 for d in manual)
    low, high = stats.binom.ppf([0.0005, 0.9995], len(manual), share)
    assert low <= pairs <= high, f"{pairs} consensus copies of {len(manual)} manual tasks at share {share}"
    # the consensus draw is independent of the audit draw: audited tasks get copies at the same share
    audited_pairs = sum(d.copies == 2 for d in audited)
    low, high = stats.binom.ppf([0.0005, 0.9995], len(audited), share)
    assert low <= audited_pairs <= high
    assert all(d.consensus_prob == pytest.approx(d.inclusion_prob * share) for d in manual)
    assert all(d.copies == 0 for d in decisions if d.route == "ship")


@pytest.mark.parametrize(("policy", "weight"), [
    (AutomationPolicy(), 1.0),
    (AutomationPolicy(thresholds={"night": math.inf}), 1.0),
    (AutomationPolicy(thresholds={"night": 0.9}), 50.0),
    (AutomationPolicy(default=0.99), 50.0),
])
def test_max_weight_is_one_while_nothing_ships(policy: AutomationPolicy, weight: float) -> None:
    router = Router(policy, Uniform(0.1), floor=AuditFloor(0.02))
    assert router.max_weight == pytest.approx(weight)
    assert router.with_policy(AutomationPolicy(default=0.5)).max_weight == pytest.approx(50.0)


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_consensus_share_out_of_range(share: float) -> None:
    with pytest.raises(InvalidPolicy):
        Router(POLICY, Uniform(0.1), consensus_share=share)


def test_reasons_name_the_rule() -> None:
    router = Router(POLICY, Uniform(1.0), consensus_share=1.0)
    _, below = router.route(RouterState(), FrameInfo("a", 0.5))
    _, audited = router.route(RouterState(), FrameInfo("b", 0.9))
    assert "below τ 0.800" in below.reason and "consensus copy" in below.reason
    assert "audited" in audited.reason and "π 1.0000" in audited.reason
