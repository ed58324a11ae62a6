"""The in-process driver: the whole loop over message batches, and its recorded output replayed from snapshots."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analysis.sampling import Decision, unit_hash
from services.loop.config import LoopConfig, SamplingSpec
from services.loop.context import CompareContext
from services.loop.driver import Annotate, Driver, StepOutput
from services.loop.messages import AutomationMessage, ManualAnnotation, ManualTask, encode
from services.loop.offline import replay_snapshot
from services.loop.recommend import recommendation_message
from tests.services.loop.messages.samples import T, sample
from tests.services.loop.records import CAR, MISSED

CONFIG = LoopConfig(window=40, target=0.6)
Run = tuple[Driver, list[StepOutput], list[AutomationMessage]]
N, BATCH = 1200, 25


def engine(i: int) -> AutomationMessage:
    """Frame ``i`` as the engine saw it: one car, at a confidence spread over (0, 1)."""
    confidence = float(np.random.default_rng(i).uniform(0.05, 0.99))
    return AutomationMessage.model_validate(sample(
        "automation-results", frame_id=f"f-{i:05d}", seq=i, stratum="all", image=f"synthetic://driving?seed=0#{i}",
        time=T + i, confidence=confidence, geometries=[{"type": "box2d", "xywh": [10.0, 20.0, 30.0, 12.0]}],
        category_ids=[1], scores=[confidence]))


def people(confidences: dict[str, float]) -> Annotate:
    """Annotators who draw only the car (the machine is accepted) with probability 0.2 + confidence."""

    def annotate(task: ManualTask) -> ManualAnnotation:
        agrees = unit_hash(task.frame_id, "people") < 0.2 + confidences[task.frame_id]  # -1: never, 1: always
        objects = [CAR] if agrees else [CAR, *MISSED]
        return ManualAnnotation.model_validate(sample(
            "manual-annotations", task_id=task.task_id, frame_id=task.frame_id, seq=task.seq, copy=task.copy_,
            copies=task.copies, inclusion_prob=task.inclusion_prob, consensus_prob=task.consensus_prob,
            policy_version=task.policy_version, stratum=task.stratum, annotator=f"sim-{task.copy_}",
            objects=objects, time=task.time + 1.0))

    return annotate


@pytest.fixture(scope="module")
def run() -> Run:
    messages = [engine(i) for i in range(N)]
    annotate = people({m.frame_id: m.confidence or 0.0 for m in messages})
    driver = Driver(CONFIG, CompareContext.for_dataset("driving"), annotate)
    steps = [driver.step(messages[k:k + BATCH], now=T + k) for k in range(0, N, BATCH)]
    return driver, steps, messages


def test_the_loop_closes_policies_route_the_next_batches(run: Run) -> None:
    driver, steps, _ = run
    recommendations = [r for s in steps for r in s.recommendations]
    machine = sum(c.kind == "machine" for s in steps for c in s.comparisons)
    assert len(recommendations) == machine // CONFIG.window
    assert any(r.action == "raise" for r in recommendations), [r.reason for r in recommendations]
    shipped = [d for s in steps for d in s.deliveries]
    assert shipped and all(d.policy_version > 0 for d in shipped)
    in_force = 0  # the policy a batch is routed under is the last one recommended before it
    for s in steps:
        assert {d.policy_version for d in s.deliveries} | {t.policy_version for t in s.tasks} <= {in_force}
        if s.recommendations:
            in_force = s.recommendations[-1].policy.version
    assert in_force > 0 and driver.router.policy == recommendations[-1].policy


def test_every_routed_frame_is_compared_once_and_shipped_ones_never(run: Run) -> None:
    _, steps, messages = run
    tasks = [t for s in steps for t in s.tasks]
    comparisons = [c for s in steps for c in s.comparisons]
    shipped = {d.frame_id for s in steps for d in s.deliveries}
    manual = {t.frame_id for t in tasks}
    assert shipped | manual == {m.frame_id for m in messages} and not shipped & manual
    machine = [c.frame_id for c in comparisons if c.kind == "machine"]
    assert sorted(machine) == sorted(manual)
    assert sorted(c.frame_id for c in comparisons if c.kind == "consensus") == sorted(
        t.frame_id for t in tasks if t.copy_ == 2)


def test_the_snapshot_of_a_driven_run_replays_to_the_same_recommendations(
    run: Run, tmp_path: Path,
) -> None:
    """The driver's output written as topic snapshots, recomputed by ``replay --from-snapshot``: the same
    comparisons, stats and recommendations (policy version, thresholds, action, rate), checked one by one."""
    driver, steps, messages = run
    topics = {
        "automation-results": messages, "manual-queue": [t for s in steps for t in s.tasks],
        "deliveries": [d for s in steps for d in s.deliveries],
        "manual-annotations": [a for s in steps for a in s.annotations],
        "comparisons": [c for s in steps for c in s.comparisons],
        "recommendations": [recommendation_message(r, 0.0) for s in steps for r in s.recommendations],
        "agreement-stats": driver.aggregation.stats(driver.aggregation.folds, time=0.0),
    }
    for topic, values in topics.items():
        (tmp_path / f"{topic}.jsonl").write_bytes(b"".join(encode(v) + b"\n" for v in values))
    result = replay_snapshot(tmp_path, CONFIG)
    assert result.checked == ["comparisons", "agreement-stats", "recommendations"]
    assert result.problems == []
    assert len(result.recommendations) == len(topics["recommendations"]) > 3
    (tmp_path / "recommendations.jsonl").write_bytes(b"".join(
        encode(r.model_copy(update={"automation_rate": min(1.0, r.automation_rate + 0.01)})) + b"\n"
        for r in topics["recommendations"]))
    assert len(replay_snapshot(tmp_path, CONFIG).problems) == len(topics["recommendations"])


ACCEPTANCE = {"clear": 0.97, "fog": 0.6}  # the fog stratum's acceptance varies most: Neyman audits it more


def strata_run(sampling: SamplingSpec) -> list[Decision]:
    messages = [engine(i).model_copy(update={"stratum": "fog" if i % 3 == 0 else "clear"}) for i in range(N)]
    stratum = {m.frame_id: m.stratum for m in messages}

    def annotate(task: ManualTask) -> ManualAnnotation:
        agrees = unit_hash(task.frame_id, "people") < ACCEPTANCE[stratum[task.frame_id]]
        return people({task.frame_id: 1.0 if agrees else -1.0})(task)

    driver = Driver(replace(CONFIG, sampling=sampling), CompareContext.for_dataset("driving"), annotate)
    return [d for k in range(0, N, BATCH) for d in driver.step(messages[k:k + BATCH], now=T + k).decisions]


def audit_pi(decisions: list[Decision], stratum: str) -> float:
    """Mean π of the stratum's frames eligible to ship (shipped, or audited with π < 1)."""
    pis = [d.inclusion_prob for d in decisions if d.frame_id and (d.route == "ship" or d.inclusion_prob < 1.0)
           and (int(d.frame_id[2:]) % 3 == 0) == (stratum == "fog")]
    assert len(pis) > 50, stratum
    return float(np.mean(pis))


def test_a_learning_sampling_policy_gets_the_loops_evidence() -> None:
    """Neyman allocation, named in the config only, is handed each stratum's evidence at every recommender step:
    it audits the stratum whose acceptance varies most (fog, 0.6) more than the steady one (clear, 0.97);
    uniform sampling at the same rate audits both alike."""
    neyman = strata_run(SamplingSpec("neyman", {"rate": 0.3}))
    assert audit_pi(neyman, "fog") > 1.3 * audit_pi(neyman, "clear")  # 0.39 vs 0.25 (the audit floor)
    uniform = strata_run(SamplingSpec("uniform", {"rate": 0.3}))
    assert audit_pi(uniform, "fog") == pytest.approx(audit_pi(uniform, "clear"))
