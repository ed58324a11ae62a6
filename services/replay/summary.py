"""``summary.json``: the estimate beside the truth known in replay, and the automation path.

A replay of clips counts clips where a frame replay counts frames (``frames_seen``, ``shipped.frames``, ...;
its top-level ``frames`` are the frames of its ``clips``), and adds which step of the chain limits it
(:mod:`services.replay.clip_summary`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.replay.clip_data import ClipReplayData, Replayed
from services.replay.clip_summary import clip_summary
from services.replay.config import ReplayConfig
from services.replay.eligible import eligible_acceptance
from services.replay.loop import LoopRun


@dataclass(frozen=True)
class Oracle:
    """The largest automation rate (share of frames at or above a candidate τ) whose frames
    truly meet the target, computed from every frame's true acceptance."""

    threshold: float
    rate: float


def oracle(run: LoopRun, data: Replayed, target: float) -> Oracle:
    conf = np.array([i.confidence for i in data.info])
    best = Oracle(math.inf, 0.0)
    for tau in run.candidates:
        above = conf >= tau
        if above.any() and data.true_accepted[above].mean() >= target and above.mean() > best.rate:
            best = Oracle(tau, float(above.mean()))
    return best


def policy_rate(data: Replayed, tau: float) -> float:
    """Share of all replayed frames whose confidence is at least ``tau``."""
    conf = np.array([i.confidence for i in data.info])
    return float((conf >= tau).mean())


def summary(cfg: ReplayConfig, data: Replayed, run: LoopRun) -> dict[str, Any]:
    last = run.windows[-1]
    best = oracle(run, data, cfg.loop.target)
    final_tau = last.recommendation.policy.default
    shipped = np.array([d.route == "ship" for d in run.decisions])
    final_rate = policy_rate(data, final_tau)
    doc = {
        "dataset": cfg.dataset, "seed": cfg.seed, "frames": len(data.info), "model_version": data.model_version,
        "target": cfg.loop.target, "alpha": cfg.loop.alpha,
        "true_population_acceptance": float(data.true_accepted.mean()),
        "estimated_population_acceptance": {"estimate": last.gate.estimate, "lower": last.gate.lower,
                                            "upper": last.gate.upper, "n": last.gate.n, "method": last.gate.method},
        "shipped": {"frames": int(shipped.sum()),
                    "true_acceptance": float(data.true_accepted[shipped].mean()) if shipped.any() else None},
        "human_floor": {"true": float(data.true_floor.mean()),
                        "estimate": _agreement(last.recommendation.human_floor)},
        "machine_agreement": _agreement(last.recommendation.machine_agreement),
        "final_threshold": _finite(final_tau), "final_automation_rate": final_rate,
        "oracle": {"threshold": _finite(best.threshold), "automation_rate": best.rate},
        "share_of_oracle": final_rate / best.rate if best.rate > 0 else None,
        "final_threshold_truly_meets_target": _meets(data, final_tau, cfg.loop.target),
        "manual_tasks": sum(d.copies for d in run.decisions),
        "eligible_acceptance": eligible_acceptance(data, run, cfg.loop.alpha),
        "windows": [_window(w, data) for w in run.windows],
    }
    return clip_summary(doc, data, run) if isinstance(data, ClipReplayData) else doc


def _meets(data: Replayed, tau: float, target: float) -> bool | None:
    conf = np.array([i.confidence for i in data.info])
    above = conf >= tau
    return bool(data.true_accepted[above].mean() >= target) if above.any() else None


def _window(w: Any, data: Replayed) -> dict[str, Any]:
    rec = w.recommendation
    return {
        "index": w.index, "frames_seen": w.frames_seen, "threshold": _finite(w.threshold),
        "automation_rate": w.shipped / w.frames, "shipped": w.shipped, "manual": w.manual, "audits": w.audits,
        "consensus": w.consensus,
        "shipped_true_acceptance": w.shipped_true_accepted / w.shipped if w.shipped else None,
        "gate": {"decision": w.gate.decision, "estimate": w.gate.estimate, "lower": w.gate.lower,
                 "upper": w.gate.upper, "n": w.gate.n},
        "recommended_threshold": _finite(rec.policy.default), "recommended_rate": policy_rate(data, rec.policy.default),
        "action": rec.action, "reason": rec.reason,
    }


def _agreement(a: Any) -> dict[str, float] | None:
    if a is None:
        return None
    return {"estimate": a.estimate, "lower": a.lower, "upper": a.upper, "n": a.n}


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
