"""The recommender step around ``analysis.recommend``: weight bounds and messages.

The recommender's bets must be sized for the largest weight 1/π a frame could
carry, known before the frame was routed: 1 under policy version 0 (nothing
ships, every frame goes to people), 1/floor once a policy may ship. Each
comparison names the policy version it was routed under, so batches are split
into runs with one bound each.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence

from analysis.observations import Observation
from analysis.policy.automation import AutomationPolicy
from analysis.recommend import Recommendation
from analysis.sampling.evidence import StratumEvidence
from services.loop.messages import ComparisonMessage, PolicyMessage, RecommendationMessage
from services.loop.messages.decisions import EvidenceEntry


def weight_bounds(
    batch: Sequence[ComparisonMessage], bounds: Mapping[int, float], default: float
) -> Iterator[tuple[list[ComparisonMessage], float]]:
    """Consecutive runs of ``batch`` with the same weight bound (version 0: 1; unknown: ``default``)."""
    run: list[ComparisonMessage] = []
    current: float | None = None
    for c in batch:
        bound = 1.0 if c.policy_version == 0 else bounds.get(c.policy_version, default)
        if current is not None and bound != current:
            yield run, current
            run = []
        run.append(c)
        current = bound
    if run and current is not None:
        yield run, current


def observation(c: ComparisonMessage) -> Observation:
    """A comparison as the recommender's observation."""
    return Observation(c.frame_id, c.accepted, c.inclusion_prob, c.stratum,
                       math.nan if c.confidence is None else c.confidence, c.model_version, c.time)


def _tau(value: float) -> float | None:
    return None if math.isinf(value) else value


def recommendation_message(rec: Recommendation, now: float) -> RecommendationMessage:
    return RecommendationMessage(
        stratum="all", thresholds={k: _tau(v) for k, v in rec.thresholds.items()},
        automation_rate=min(1.0, max(0.0, rec.automation_rate)), action=rec.action, reason=rec.reason,
        policy_version=rec.policy.version, time=now,
    )


def policy_message(policy: AutomationPolicy, *, applied_by: str, reason: str, now: float,
                   pinned: Mapping[str, str] | None = None,
                   evidence: Mapping[str, StratumEvidence] | None = None) -> PolicyMessage:
    """The ``policies`` record of the policy in force (τ = inf as null), with its pins and evidence."""
    return PolicyMessage(
        version=policy.version, default=_tau(policy.default),
        thresholds={k: _tau(v) for k, v in policy.thresholds.items()}, applied_by=applied_by, reason=reason,
        time=now, pinned=dict(pinned or {}),
        evidence={s: EvidenceEntry(n=e.n, acceptance=None if e.n == 0 else e.acceptance)
                  for s, e in sorted((evidence or {}).items())},
    )
