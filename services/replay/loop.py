"""The shadow loop, window by window: route, annotate blind, compare, gate, recommend, update.

It starts at automation rate 0 (every frame goes to people) and the policy the
recommender returns after each window routes the next one, exactly as the
online agents will.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from analysis.gate import Gate, GateResult
from analysis.observations import Observation, Observations
from analysis.policy.automation import AutomationPolicy
from analysis.recommend import (
    GRID_RATES,
    Guardrails,
    MaxStep,
    Recommendation,
    Recommender,
    RecommenderConfig,
    candidates_at_rates,
)
from analysis.sampling import AuditFloor, ConfidenceWeighted, Decision, Router, RouterState
from services.replay.config import ReplayConfig
from services.replay.data import ReplayData, accepted_against, only_frames

RATES = GRID_RATES


@dataclass(frozen=True)
class WindowRecord:
    """What happened in one window, and the state of the evidence after it."""

    index: int
    frames_seen: int
    threshold: float  # τ in force while the window was routed
    shipped: int
    manual: int
    audits: int
    consensus: int
    shipped_true_accepted: int  # known only in replay
    gate: GateResult  # over every compared frame so far
    recommendation: Recommendation

    @property
    def frames(self) -> int:
        return self.shipped + self.manual


@dataclass
class LoopRun:
    windows: list[WindowRecord] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    consensus: list[Observation] = field(default_factory=list)
    candidates: tuple[float, ...] = ()


def run_loop(cfg: ReplayConfig, data: ReplayData) -> LoopRun:
    first = [i.confidence for i in data.info[: cfg.window] if math.isfinite(i.confidence)]
    run = LoopRun(candidates=candidates_at_rates(first or [0.5], RATES))
    recommender = Recommender(RecommenderConfig(
        target=cfg.target, alpha=cfg.alpha, candidates=run.candidates, audit_floor=cfg.audit_floor,
        guardrails=Guardrails(max_step=MaxStep(cfg.max_step)),
    ))
    router = Router(AutomationPolicy(), ConfidenceWeighted(scale=cfg.audit_scale, floor=cfg.audit_floor),
                    consensus_share=cfg.consensus_share, floor=AuditFloor(cfg.audit_floor), salt=f"replay-{cfg.seed}")
    gate = Gate(cfg.target, cfg.alpha, max_weight=1.0 / cfg.audit_floor)
    route_state, gate_state, rec_state = RouterState(), gate.start(), recommender.initial()
    for k, start in enumerate(range(0, len(data.info), cfg.window)):
        window = range(start, min(start + cfg.window, len(data.info)))
        decisions = []
        for i in window:
            route_state, decision = router.route(route_state, data.info[i])
            decisions.append(decision)
        obs, pairs = _compare(cfg, data, window, decisions)
        gate_state, _ = gate.update(gate_state, Observations.of(obs))
        rec_state, recommendation = recommender.update(rec_state, obs, pairs, max_weight=router.max_weight)
        run.windows.append(_record(k, window, decisions, data, router, gate.result(gate_state), recommendation))
        run.decisions += decisions
        run.observations += obs
        run.consensus += pairs
        router = router.with_policy(recommendation.policy)
    return run


def _compare(
    cfg: ReplayConfig, data: ReplayData, window: range, decisions: list[Decision]
) -> tuple[list[Observation], list[Observation]]:
    """Comparator over the window's manual frames: machine vs annotator 1, annotator 2 vs 1."""
    manual = [(i, d) for i, d in zip(window, decisions, strict=True) if d.route == "manual"]
    ids = {int(data.info[i].frame_id) for i, _ in manual}
    first = only_frames(data.people[0], ids)
    accepted = _by_frame(accepted_against(only_frames(data.machine, ids), first, cfg), first)
    pairs_ids = {int(data.info[i].frame_id) for i, d in manual if d.copies == 2}
    floor = _by_frame(accepted_against(only_frames(data.people[1], pairs_ids), only_frames(first, pairs_ids), cfg),
                      only_frames(first, pairs_ids))
    obs, pairs = [], []
    for i, d in manual:
        info = data.info[i]
        obs.append(Observation(info.frame_id, bool(accepted[int(info.frame_id)]), d.inclusion_prob, info.stratum,
                               info.confidence, info.model_version, info.time))
        if d.copies == 2:
            pairs.append(Observation(info.frame_id, bool(floor[int(info.frame_id)]), d.consensus_prob, info.stratum,
                                     info.confidence, "people", info.time))
    return obs, pairs


def _by_frame(accepted: np.ndarray, doc: dict[str, object]) -> dict[int, bool]:
    images = doc["images"]
    assert isinstance(images, list)
    return {int(img["id"]): bool(a) for img, a in zip(images, accepted.tolist(), strict=True)}


def _record(
    k: int, window: range, decisions: list[Decision], data: ReplayData, router: Router, gate: GateResult,
    recommendation: Recommendation,
) -> WindowRecord:
    shipped = [i for i, d in zip(window, decisions, strict=True) if d.route == "ship"]
    manual = [d for d in decisions if d.route == "manual"]
    return WindowRecord(
        index=k, frames_seen=window.stop, threshold=router.policy.default, shipped=len(shipped), manual=len(manual),
        audits=sum(1 for d in manual if d.inclusion_prob < 1.0), consensus=sum(1 for d in manual if d.copies == 2),
        shipped_true_accepted=int(data.true_accepted[shipped].sum()), gate=gate, recommendation=recommendation,
    )
