"""The evidence hook: policies that do not learn ignore it, wrappers pass it on, the router keeps its contract."""

from __future__ import annotations

import math

import pytest

from analysis.policy.automation import AutomationPolicy, FrameInfo
from analysis.sampling import (
    BudgetCapped,
    ConfidenceWeighted,
    Router,
    RouterState,
    Stratified,
    StratumEvidence,
    Uniform,
    build_policy,
)
from analysis.sampling.evidence import RecentFrames
from analysis.sampling.exceptions import InvalidPolicy
from analysis.sampling.neyman import NeymanAllocation

EVIDENCE = {"clear": StratumEvidence(300, 0.98, 6000), "night": StratumEvidence(30, 0.55, 1000)}


@pytest.mark.parametrize("policy", [Uniform(0.1), ConfidenceWeighted(), Stratified(targets={}, expected={})])
def test_policies_that_do_not_learn_return_themselves(policy: object) -> None:
    assert isinstance(policy, Uniform | ConfidenceWeighted | Stratified)
    assert policy.with_evidence(EVIDENCE) is policy


def test_the_budget_wrapper_passes_evidence_to_its_inner_policy() -> None:
    capped = BudgetCapped(NeymanAllocation(rate=0.05), per_window=100)
    learnt = capped.with_evidence(EVIDENCE)
    assert learnt.inner == NeymanAllocation(rate=0.05).with_evidence(EVIDENCE)
    assert (learnt.per_window, learnt.floor) == (100, capped.floor)


def test_the_router_adapts_its_policy_and_stays_deterministic() -> None:
    router = Router(AutomationPolicy(default=0.5), build_policy("neyman", {"rate": 0.1, "floor": 0.02}), salt="s")
    learnt = router.with_evidence(EVIDENCE)
    assert (learnt.policy, learnt.salt, learnt.floor) == (router.policy, router.salt, router.floor)
    frames = [FrameInfo(f"f{i}", 0.9, "night" if i % 7 == 0 else "clear") for i in range(3000)]

    def decisions(r: Router) -> list[tuple[str, float]]:
        state, out = RouterState(), list[tuple[str, float]]()
        for frame in frames:
            state, decision = r.route(state, frame)
            out.append((decision.route, decision.inclusion_prob))
        return out

    before, after = decisions(router), decisions(learnt)
    assert after == decisions(router.with_evidence(EVIDENCE))  # a replay with the same evidence: same decisions
    assert {pi for _, pi in before} == {0.1}
    night = {pi for (_, pi), f in zip(after, frames, strict=True) if f.stratum == "night"}
    clear = {pi for (_, pi), f in zip(after, frames, strict=True) if f.stratum == "clear"}
    assert len(night) == len(clear) == 1 and night.pop() > 0.1 > clear.pop()


@pytest.mark.parametrize("kwargs", [
    {"n": -1}, {"frames": -3}, {"n": 4, "acceptance": math.nan}, {"n": 4, "acceptance": 1.2},
])
def test_evidence_out_of_range_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidPolicy):
        StratumEvidence(**kwargs)  # type: ignore[arg-type]


def test_recent_frames_count_the_last_frames_a_policy_would_ship() -> None:
    recent = RecentFrames(size=4)
    for i, (stratum, confidence) in enumerate([("clear", 0.99), ("night", 0.95), ("clear", 0.5), ("night", 0.7),
                                               ("clear", 0.9), ("night", 0.96)]):
        recent.add(FrameInfo(f"f{i}", confidence, stratum))
    assert [f.frame_id for f in recent.frames] == ["f2", "f3", "f4", "f5"]  # the first two have left
    assert recent.eligible(AutomationPolicy(default=0.8)) == {"clear": 1, "night": 1}
    assert recent.eligible(AutomationPolicy(default=0.6, thresholds={"night": 0.9})) == {"clear": 1, "night": 1}
    assert recent.eligible(AutomationPolicy(default=0.6)) == {"clear": 1, "night": 2}
    assert recent.eligible(AutomationPolicy(default=0.999)) == {}


def test_recent_frames_need_a_size() -> None:
    with pytest.raises(InvalidPolicy, match="size: must be >= 1"):
        RecentFrames(size=0)
