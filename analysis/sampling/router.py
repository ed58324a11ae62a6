"""The router: manual work or shipment for each frame, with its inclusion probability π.

A frame below its stratum's threshold goes to people (π = 1). A frame eligible
to ship is still audited with the sampling policy's π (never below the audit
floor) and ships otherwise. Every manual task may get a consensus copy for a
second, different annotator. Both draws hash the frame id with the router's
salt, so replaying a stream reproduces the online decisions exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

from analysis.policy.automation import AutomationPolicy, FrameInfo
from analysis.sampling.evidence import Evidence
from analysis.sampling.exceptions import InvalidPolicy
from analysis.sampling.floor import AuditFloor
from analysis.sampling.hashing import unit_hash
from analysis.sampling.policies import SamplingPolicy, SamplingState

Route = Literal["manual", "ship"]


@dataclass(frozen=True)
class Decision:
    """Where one frame goes and with which probability it went to people."""

    frame_id: str
    route: Route
    inclusion_prob: float  # P(frame goes to people): 1 below τ, the audit π above
    copies: int  # manual tasks: 1, or 2 with a consensus copy; 0 when shipped
    policy_version: int
    reason: str
    consensus_prob: float = 0.0  # P(frame gets a consensus copy): the π of a human-vs-human pair


@dataclass(frozen=True)
class RouterState:
    """Counters and the sampling policy's state; plain data, folded frame after frame."""

    sampling: SamplingState = field(default_factory=SamplingState)
    frames: int = 0
    manual: int = 0  # below threshold: people annotate, nothing ships
    audits: int = 0  # eligible to ship but drawn for a blind manual annotation
    shipped: int = 0
    consensus: int = 0  # manual tasks with a second annotator


@dataclass(frozen=True)
class Router:
    """Automation policy + audit sampling policy + consensus share, as one pure value."""

    policy: AutomationPolicy
    sampling: SamplingPolicy
    consensus_share: float = 0.0
    floor: AuditFloor = field(default_factory=AuditFloor)
    salt: str = "shadowqa"

    def __post_init__(self) -> None:
        if not 0.0 <= self.consensus_share <= 1.0:
            raise InvalidPolicy("router", "consensus_share", f"must be in [0, 1], got {self.consensus_share}")

    def route(self, state: RouterState, frame: FrameInfo) -> tuple[RouterState, Decision]:
        """The decision for ``frame`` and the state after it."""
        tau = self.policy.threshold(frame.stratum)
        if not self.policy.ships(frame):
            why = f"confidence {frame.confidence:.3f} below τ {tau:.3f} of stratum {frame.stratum}"
            return self._manual(replace(state, manual=state.manual + 1), frame, 1.0, why)
        pi = self.floor.apply(self.sampling.probability(frame, state.sampling))
        u = unit_hash(frame.frame_id, self.salt)
        sampled = u < pi
        state = replace(state, sampling=self.sampling.observe(state.sampling, frame, sampled))
        if sampled:
            why = f"eligible (confidence {frame.confidence:.3f} ≥ τ {tau:.3f}), audited: u {u:.4f} < π {pi:.4f}"
            return self._manual(replace(state, audits=state.audits + 1), frame, pi, why)
        why = f"ships (confidence {frame.confidence:.3f} ≥ τ {tau:.3f}): u {u:.4f} ≥ π {pi:.4f}"
        decision = Decision(frame.frame_id, "ship", pi, 0, self.policy.version, why)
        return replace(state, frames=state.frames + 1, shipped=state.shipped + 1), decision

    def _manual(self, state: RouterState, frame: FrameInfo, pi: float, why: str) -> tuple[RouterState, Decision]:
        pair = unit_hash(frame.frame_id, f"{self.salt}/consensus") < self.consensus_share
        decision = Decision(frame.frame_id, "manual", pi, 2 if pair else 1, self.policy.version,
                            why + ("; consensus copy" if pair else ""), pi * self.consensus_share)
        return replace(state, frames=state.frames + 1, consensus=state.consensus + int(pair)), decision

    def with_policy(self, policy: AutomationPolicy) -> Router:
        """The same router under a new automation policy (the recommender's update)."""
        return replace(self, policy=policy)

    def with_evidence(self, evidence: Evidence) -> Router:
        """The same router with its sampling policy adapted to the loop's per-stratum evidence."""
        return replace(self, sampling=self.sampling.with_evidence(evidence))

    @property
    def max_weight(self) -> float:
        """Largest 1/π a frame routed by this router can carry: 1 while nothing may ship."""
        taus = [self.policy.default, *self.policy.thresholds.values()]
        return 1.0 if all(math.isinf(t) and t > 0 for t in taus) else self.floor.max_weight
