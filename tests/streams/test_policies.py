"""Following the policies topic: the latest valid record is in force, unreadable records are counted and ignored."""

from __future__ import annotations

import math

import orjson
import pytest

from analysis.policy.automation import AutomationPolicy
from services.loop.messages import PolicyMessage, encode
from streams.policies import PolicyFollower, policy_of
from tests.services.loop.messages.samples import sample


def policy(version: int, default: float | None = 0.9, **thresholds: float | None) -> bytes:
    return encode(PolicyMessage.model_validate(sample("policies", version=version, default=default,
                                                      thresholds=thresholds)))


def follower() -> PolicyFollower:
    return PolicyFollower("127.0.0.1:1", "t-policies")  # never started: no broker is contacted


def test_before_any_record_nothing_ships() -> None:
    f = follower()
    assert f.current == AutomationPolicy() and f.current.default == math.inf and f.current.version == 0
    assert f.rejected == 0 and not f.caught_up.is_set()


@pytest.mark.parametrize("versions", [[1], [1, 2, 3], [0, 4, 9], [2, 2]])
def test_each_newer_policy_replaces_the_one_in_force(versions: list[int]) -> None:
    f = follower()
    for i, v in enumerate(versions):
        f.absorb(policy(v, default=0.5 + i / 100))
    assert f.current.version == versions[-1]
    assert f.current.default == pytest.approx(0.5 + (len(versions) - 1) / 100)


def test_the_latest_record_is_in_force_even_with_a_lower_version() -> None:
    """The source's rule since the working-tree change to ``absorb``: the compacted topic's latest record wins
    (before, the highest version did)."""
    f = follower()
    f.absorb(policy(5, default=0.9))
    f.absorb(policy(3, default=0.8, **{"weather=rain": None}))
    assert (f.current.version, f.current.default) == (3, 0.8)
    assert f.current.threshold("weather=rain") == math.inf


@pytest.mark.parametrize("raw", [
    pytest.param(b"\xffnot json", id="not-json"),
    pytest.param(b"{}", id="no-schema-version"),
    pytest.param(orjson.dumps(sample("policies", default=1.5)), id="threshold-above-1"),
])
def test_an_invalid_record_is_counted_and_ignored(raw: bytes) -> None:
    f = follower()
    f.absorb(policy(2, default=0.7))
    f.absorb(raw)
    assert f.rejected == 1
    assert (f.current.version, f.current.default) == (2, 0.7)


def test_a_tombstone_is_ignored() -> None:
    f = follower()
    f.absorb(policy(2, default=0.7))
    f.absorb(None)
    assert f.rejected == 0
    assert (f.current.version, f.current.default) == (2, 0.7)


def test_policy_of_maps_null_thresholds_to_infinity() -> None:
    p = policy_of(PolicyMessage.model_validate(sample("policies", version=7, default=None,
                                                      thresholds={"weather=rain": 0.93, "weather=fog": None})))
    assert p == AutomationPolicy(default=math.inf, thresholds={"weather=rain": 0.93, "weather=fog": math.inf},
                                 version=7)
    assert p.threshold("weather=fog") == math.inf and p.threshold("night") == math.inf


def test_policy_of_keeps_numbers() -> None:
    p = policy_of(PolicyMessage.model_validate(sample("policies", version=1, default=0.0, thresholds={"a": 1.0})))
    assert (p.default, dict(p.thresholds), p.version) == (0.0, {"a": 1.0}, 1)
    assert isinstance(p.default, float) and isinstance(p.thresholds["a"], float)


def test_the_evidence_a_record_carries_is_kept_with_the_policy_and_read_into_stratum_evidence() -> None:
    """Online, a learning sampling policy gets the evidence with the policy record (Neyman allocation)."""
    from analysis.sampling.evidence import StratumEvidence, evidence

    f = follower()
    doc = sample("policies", version=2, evidence={"day": {"n": 40, "acceptance": 0.9},
                                                 "night": {"n": 0, "acceptance": None}})
    f.absorb(encode(PolicyMessage.model_validate(doc)))
    assert f.evidence["day"] == (40, 0.9) and f.evidence["night"][0] == 0 and math.isnan(f.evidence["night"][1])
    got = evidence(f.evidence, {"day": 300, "rain": 12})
    assert got["day"] == StratumEvidence(40, 0.9, 300) and got["rain"] == StratumEvidence(frames=12)
    assert got["night"].n == 0 and got["night"].frames == 0 and math.isnan(got["night"].acceptance)
    f.absorb(encode(PolicyMessage.model_validate(sample("policies", version=3, evidence={}))))
    assert f.evidence == {}  # a record without evidence: nothing learnt any more
