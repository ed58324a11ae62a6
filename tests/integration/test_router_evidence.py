"""On the real broker, the router's Neyman allocation learns from the evidence a policy record carries.

One router worker runs with ``neyman`` sampling. A first policy record (τ per stratum, no evidence) is in
force when it starts; a first batch of automation results in four strata is routed under it. A second record
(the same thresholds, the next version) then carries evidence that makes the strata differ strongly: one at
acceptance 0.97, one at 0.6 (200 audited comparisons each), one with a little evidence and no frame yet, one
with frames but no evidence. Probes (frames below every τ: people, π = 1, never eligible, so they change no
count) are sent one by one until a probe's task shows the new version: the router has rebuilt its router from
that record. A second batch is then routed, and every one of its frames must get exactly the decision
``build_router(config, policy2).with_evidence(evidence(record 2, the recent frames policy 2 would ship))``
gives offline (the recent frames: batch 1 and the probes, which never ship):
the same route, π, copies and consensus π. The check has teeth: the low-acceptance stratum gets a larger π than
the high one, where uniform sampling (or the right evidence with frames counted whether eligible or not) would
give other π.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analysis.policy.automation import AutomationPolicy
from analysis.sampling import Decision, RouterState
from analysis.sampling.evidence import StratumEvidence, evidence
from services.infra.topic_names import TopicNames
from services.loop.build import build_router
from services.loop.config import LoopConfig, SamplingSpec
from services.loop.messages import AutomationMessage, Delivery, ManualTask, decode, encode
from services.loop.recommend import policy_message
from services.loop.routing import frame_info
from services.settings import Settings
from services.tools.kafka import KafkaSink, key_bytes
from services.tools.snapshot import read_topic
from services.tools.supervisor import Supervisor
from services.tools.worker_args import loop_args
from tests.services.loop.messages.samples import T, sample
from tests.utils.progress import wait_for

CLEAR, RAIN, NIGHT, FOG = "weather=clear", "weather=rain", "time=night", "weather=fog"
CONFIG = LoopConfig(audit_floor=0.05, sampling=SamplingSpec("neyman", {"rate": 0.3}), auto_apply=False)
UNIFORM = replace(CONFIG, sampling=SamplingSpec("uniform", {"rate": 0.3}))
POLICY_1 = AutomationPolicy(default=0.2, thresholds={RAIN: 0.4}, version=3)
POLICY_2 = replace(POLICY_1, version=POLICY_1.version + 1)
COUNTED = {CLEAR: (200, 0.97), RAIN: (200, 0.6), NIGHT: (50, 0.8)}  # record 2's evidence; FOG has none
BATCH_1 = {CLEAR: 150, RAIN: 100, FOG: 50}  # frames per stratum (NIGHT: none yet)
BATCH_2 = {CLEAR: 100, RAIN: 100, FOG: 40, NIGHT: 40}
PROBES = 60  # probes sent at most before the router must have read record 2

Routed = tuple[str, float, int, int, float]  # route, π, policy version, copies, consensus π


def _frames(counts: dict[str, int], prefix: str, seed: int) -> list[AutomationMessage]:
    """Automation results with uniform confidences (some below τ), strata interleaved at random."""
    rng = np.random.default_rng(seed)
    strata = rng.permutation([s for s, n in counts.items() for _ in range(n)])
    return [_result(f"{prefix}-{i:04d}", i, str(s), float(rng.uniform())) for i, s in enumerate(strata)]


def _result(frame_id: str, seq: int, stratum: str, confidence: float) -> AutomationMessage:
    doc = sample("automation-results", frame_id=frame_id, seq=seq, stratum=stratum, confidence=confidence,
                 time=T + seq, image=f"synthetic://driving?seed=0#{seq}")
    return AutomationMessage.model_validate(doc)


def _send(sink: KafkaSink, topic: str, messages: Sequence[AutomationMessage]) -> None:
    for m in messages:
        sink.send(topic, key_bytes(m.frame_id), encode(m))
    sink.flush()


def _publish(sink: KafkaSink, names: TopicNames, policy: AutomationPolicy,
             counted: dict[str, tuple[int, float]]) -> None:
    record = policy_message(policy, applied_by="test", reason="router evidence test", now=T,
                            evidence={s: StratumEvidence(n, p) for s, (n, p) in counted.items()})
    sink.send(names.policies, b"policy", encode(record))
    sink.flush()


def _routed(bootstrap: str, names: TopicNames) -> dict[str, Routed]:
    """Every routed frame's decision, from ``manual-queue`` (one task per copy) and ``deliveries``."""
    out: dict[str, Routed] = {}
    for r in read_topic(bootstrap, names.manual_queue).records:
        t = decode(ManualTask, r.value or b"")
        out[t.frame_id] = ("manual", t.inclusion_prob, t.policy_version, t.copies, t.consensus_prob)
    for r in read_topic(bootstrap, names.deliveries).records:
        d = decode(Delivery, r.value or b"")
        out[d.frame_id] = ("ship", d.inclusion_prob, d.policy_version, 0, 0.0)
    return out


def _wait_routed(bootstrap: str, names: TopicNames, frames: Sequence[AutomationMessage],
                 supervisor: Supervisor) -> dict[str, Routed]:
    """Wait (on progress) until every one of ``frames`` is routed; their decisions."""
    ids = {m.frame_id for m in frames}
    wait_for(f"{len(ids)} frames routed", lambda: len(ids & _routed(bootstrap, names).keys()),
          lambda n: n >= len(ids), supervisor)
    routed = _routed(bootstrap, names)
    return {f: routed[f] for f in ids}


def _await_version(sink: KafkaSink, bootstrap: str, names: TopicNames, version: int,
                   supervisor: Supervisor) -> list[AutomationMessage]:
    """Probes, one at a time, until one is routed under ``version``; the probes sent."""
    probes = []
    for i in range(PROBES):
        probe = _result(f"probe-{i:04d}", 10_000 + i, CLEAR, 0.0)
        probes.append(probe)
        _send(sink, names.automation_results, [probe])
        if _wait_routed(bootstrap, names, [probe], supervisor)[probe.frame_id][2] == version:
            return probes
    pytest.fail(f"{PROBES} probes routed and none under policy version {version}")


def _offline(config: LoopConfig, policy: AutomationPolicy, learnt: dict[str, StratumEvidence],
             frames: Sequence[AutomationMessage]) -> dict[str, Routed]:
    """The decision ``build_router(config, policy).with_evidence(learnt)`` takes on each frame."""
    router = build_router(config, policy).with_evidence(learnt)

    def routed(d: Decision) -> Routed:
        return d.route, d.inclusion_prob, d.policy_version, d.copies, d.consensus_prob

    return {m.frame_id: routed(router.route(RouterState(), frame_info(m))[1]) for m in frames}


def _eligible(policy: AutomationPolicy, frames: Sequence[AutomationMessage]) -> dict[str, int]:
    return dict(Counter(m.stratum for m in frames if policy.ships(frame_info(m))))


def _audit_pi(routed: dict[str, Routed], policy: AutomationPolicy,
              frames: Sequence[AutomationMessage]) -> dict[str, set[float]]:
    """The π of the frames eligible to ship under ``policy`` (audited or shipped), by stratum."""
    out: dict[str, set[float]] = {}
    for m in frames:
        if policy.ships(frame_info(m)):
            out.setdefault(m.stratum, set()).add(routed[m.frame_id][1])
    return out


def _run(settings: Settings, names: TopicNames, tmp_path: Path, batch_1: list[AutomationMessage],
         batch_2: list[AutomationMessage]) -> tuple[dict[str, Routed], dict[str, Routed], list[AutomationMessage]]:
    """Policy 1, the router, batch 1; policy 2 with evidence, probes until it is in force, batch 2."""
    bootstrap, sink = settings.kafka_bootstrap, KafkaSink(settings.kafka_bootstrap)
    try:
        with Supervisor(names.prefix, tmp_path / "logs", worker_args=loop_args(CONFIG)) as supervisor:
            _publish(sink, names, POLICY_1, {})
            supervisor.start("router")
            supervisor.wait_ready()
            _send(sink, names.automation_results, batch_1)
            first = _wait_routed(bootstrap, names, batch_1, supervisor)
            _publish(sink, names, POLICY_2, COUNTED)
            probes = _await_version(sink, bootstrap, names, POLICY_2.version, supervisor)
            _send(sink, names.automation_results, batch_2)
            second = _wait_routed(bootstrap, names, batch_2, supervisor)
    finally:
        sink.close()
    return first, second, probes


def test_the_router_allocates_audits_by_the_evidence_of_the_latest_policy_record(
    settings: Settings, run_topics: TopicNames, tmp_path: Path,
) -> None:
    batch_1, batch_2 = _frames(BATCH_1, "b1", seed=12), _frames(BATCH_2, "b2", seed=13)
    first, second, probes = _run(settings, run_topics, tmp_path, batch_1, batch_2)

    assert not any(POLICY_1.ships(frame_info(p)) or POLICY_2.ships(frame_info(p)) for p in probes)
    eligible = _eligible(POLICY_2, [*batch_1, *probes])  # the recent frames record 2's policy would ship
    assert eligible.keys() == BATCH_1.keys() and sum(eligible.values()) < len(batch_1)  # some below τ
    assert first == _offline(CONFIG, POLICY_1, evidence({}, {}), batch_1)  # no evidence yet: π = rate
    assert {pi for s in _audit_pi(first, POLICY_1, batch_1).values() for pi in s} == {0.3}

    learnt = evidence(COUNTED, eligible)
    assert second == _offline(CONFIG, POLICY_2, learnt, batch_2)  # every frame: route, π, copies, consensus π
    pi = _audit_pi(second, POLICY_2, batch_2)
    assert all(len(values) == 1 for values in pi.values()) and pi.keys() == BATCH_2.keys()
    (clear,), (rain,), (night,), (fog,) = pi[CLEAR], pi[RAIN], pi[NIGHT], pi[FOG]
    assert rain > 2 * clear  # the low-acceptance stratum is audited more
    assert clear < night < rain < fog  # by spread: acceptance 0.97, 0.8, 0.6, none (the prior's 0.5)
    assert all(p < 1.0 for p in (clear, rain, night, fog))  # none clipped: the allocation shows

    uniform = _audit_pi(_offline(UNIFORM, POLICY_2, learnt, batch_2), POLICY_2, batch_2)  # the comparison can fail:
    assert {p for s in uniform.values() for p in s} == {0.3}  # uniform gives every stratum one π
    assert clear != 0.3 != rain
    every_frame = evidence(COUNTED, dict(Counter(m.stratum for m in batch_1)))  # frames counted, eligible or not
    assert second != _offline(CONFIG, POLICY_2, every_frame, batch_2)
