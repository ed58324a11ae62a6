"""Building the loop's pure parts from ``LoopConfig``: the one place router and recommender are made.

The router agent, the aggregator, ``shadowqa replay`` and the snapshot
recomputation all call these, so online and offline route and recommend alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from analysis.policy.automation import AutomationPolicy
from analysis.recommend import GRID_RATES, Guardrails, MaxStep, Recommender, RecommenderConfig, candidates_at_rates
from analysis.sampling import AuditFloor, Router
from services.loop.config import LoopConfig, build_sampling


def build_router(config: LoopConfig, policy: AutomationPolicy | None = None) -> Router:
    """The router under ``policy`` (default: version 0, nothing ships)."""
    return Router(policy or AutomationPolicy(), build_sampling(config.sampling, config.audit_floor),
                  consensus_share=config.consensus_share, floor=AuditFloor(config.audit_floor), salt=config.salt)


def build_recommender(config: LoopConfig, first_confidences: Iterable[float | None]) -> Recommender:
    """The recommender, its threshold grid placed at the confidences of the first window's machine frames
    (thresholds that would ship 2.5 %, 5 %, … of such frames)."""
    seen = [c for c in first_confidences if c is not None and math.isfinite(c)]
    return recommender_on_grid(config, candidates_at_rates(seen or [0.5], GRID_RATES))


def recommender_on_grid(config: LoopConfig, candidates: tuple[float, ...]) -> Recommender:
    """The recommender on a grid placed before (a fold's state read back from a checkpoint)."""
    return Recommender(RecommenderConfig(
        target=config.target, alpha=config.alpha, audit_floor=config.audit_floor, candidates=candidates,
        guardrails=Guardrails(max_step=MaxStep(config.max_step)),
    ))
