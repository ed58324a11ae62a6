"""The shadow loop offline, frame by frame: route, compare the frames sent to people, count, recommend, update.

It starts at automation rate 0 (every frame goes to people). Comparisons are
counted by the loop's folds (``services/loop/aggregation.py``) exactly as the
aggregator counts them online: every ``window`` machine comparisons the
recommender steps, and its policy routes the frames after that one, as the
router agent would follow ``policies`` (with no delay). A window here is the
frames routed between two recommender steps; the frames after the last step
are a last window without a step of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from analysis.gate import Gate, GateResult
from analysis.observations import Observation, Observations
from analysis.recommend import Recommendation
from analysis.sampling import Decision, Router, RouterState
from services.loop.aggregation import Aggregation
from services.loop.build import build_router
from services.loop.messages import ComparisonMessage
from services.loop.recommend import observation
from services.replay.config import ReplayConfig
from services.replay.data import FrameCounts, ReplayData


@dataclass(frozen=True)
class WindowRecord:
    """What happened between two recommender steps, and the state of the evidence after it."""

    index: int
    frames_seen: int
    threshold: float  # τ in force while the window was routed
    shipped: int
    manual: int
    audits: int
    consensus: int
    shipped_true_accepted: int  # known only in replay
    gate: GateResult  # over every compared frame so far
    recommendation: Recommendation  # the step that closed the window (the last window: the step before it)
    stepped: bool = True  # False for the frames after the last step

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
    run, aggregation, router = LoopRun(), Aggregation(cfg.loop), build_router(cfg.loop)
    gate = Gate(cfg.loop.target, cfg.loop.alpha, max_weight=cfg.loop.max_weight)
    route_state, gate_state, start, gated = RouterState(), gate.start(), 0, 0
    for i, info in enumerate(data.info):
        route_state, decision = router.route(route_state, info)
        run.decisions.append(decision)
        compared = comparisons(data, i, decision) if decision.route == "manual" else []
        run.observations += [observation(c) for c in compared if c.kind == "machine"]
        run.consensus += [observation(c) for c in compared if c.kind == "consensus"]
        for recommendation in aggregation.add(compared):
            gate_state, _ = gate.update(gate_state, Observations.of(run.observations[gated:]))
            gated = len(run.observations)
            run.windows.append(_record(len(run.windows), range(start, i + 1), run, data, router,
                                       gate.result(gate_state), recommendation))
            router, start = router.with_policy(recommendation.policy), i + 1
    if start < len(data.info) and run.windows:
        gate_state, _ = gate.update(gate_state, Observations.of(run.observations[gated:]))
        run.windows.append(_record(len(run.windows), range(start, len(data.info)), run, data, router,
                                   gate.result(gate_state), run.windows[-1].recommendation, stepped=False))
    run.candidates = aggregation.recommending.candidates
    return run


def comparisons(data: ReplayData, i: int, decision: Decision) -> list[ComparisonMessage]:
    """Frame ``i``'s comparisons, as the comparator would send them: machine vs copy 1, and copy 2 vs copy 1."""
    out = [_message(data, i, decision, "machine", data.machine_vs_people, decision.inclusion_prob)]
    if decision.copies == 2:
        out.append(_message(data, i, decision, "consensus", data.people_vs_people, decision.consensus_prob))
    return out


def _message(data: ReplayData, i: int, d: Decision, kind: str, counts: FrameCounts, prob: float) -> ComparisonMessage:
    info, iou = data.info[i], float(counts.mean_iou[i])
    return ComparisonMessage.model_validate({
        "frame_id": info.frame_id, "kind": kind, "accepted": bool(counts.accepted[i]), "inclusion_prob": prob,
        "stratum": info.stratum,
        "confidence": info.confidence if kind == "machine" and math.isfinite(info.confidence) else None,
        "model_version": info.model_version if kind == "machine" else "people", "time": info.time,
        "tp": int(counts.tp[i]), "fp": int(counts.fp[i]), "fn": int(counts.fn[i]),
        "mean_iou": None if math.isnan(iou) else min(1.0, iou), "policy_version": d.policy_version,
    })


def _record(
    k: int, window: range, run: LoopRun, data: ReplayData, router: Router, gate: GateResult,
    recommendation: Recommendation, stepped: bool = True,
) -> WindowRecord:
    decisions = run.decisions[window.start:window.stop]
    shipped = [i for i, d in zip(window, decisions, strict=True) if d.route == "ship"]
    manual = [d for d in decisions if d.route == "manual"]
    return WindowRecord(
        index=k, frames_seen=window.stop, threshold=router.policy.default, shipped=len(shipped), manual=len(manual),
        audits=sum(1 for d in manual if d.inclusion_prob < 1.0), consensus=sum(1 for d in manual if d.copies == 2),
        shipped_true_accepted=int(data.true_accepted[shipped].sum()), gate=gate, recommendation=recommendation,
        stepped=stepped,
    )
