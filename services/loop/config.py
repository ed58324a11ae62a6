"""The shadow loop's settings, defined once: what routes, compares and recommends, online and offline.

``LoopConfig`` is the one place a loop default lives. The streaming workers
(``streams.config.PipelineConfig``), the offline replay
(``services.replay.config.ReplayConfig``), the demo run, the CLI and the Helm
values all hold or map onto it. ``window`` has one meaning everywhere: machine
comparisons per recommender step (the first window places the threshold grid).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.exceptions import InvalidInput
from analysis.sampling import SamplingPolicy
from analysis.sampling.registry import build_policy, policy_params

LOOP_ROLES = ("automation", "router", "comparator", "aggregator")  # the streaming workers of the shadow loop
WORKER_ROLES = (*LOOP_ROLES, "persist")  # and the one that writes topics to the database
DEFAULT_SAMPLING = "confidence"
DEFAULT_SAMPLING_PARAMS: Mapping[str, Any] = {"scale": 0.3}
DEFAULT_AUDIT_FLOOR = 0.25  # smallest π the router gives a frame eligible to ship, unless the loop names another
DEFAULT_MAX_WEIGHT = 1.0 / DEFAULT_AUDIT_FLOOR  # 4, the largest 1/π such a router gives: the default weight bound of
# every gate (``shadowqa gate --max-weight``, ``shadowqa api serve --max-weight``), so a default loop's comparisons
# are gated without naming one


@dataclass(frozen=True)
class SamplingSpec:
    """A sampling policy by name and parameters (the registry builds it; the audit floor is the loop's)."""

    kind: str = DEFAULT_SAMPLING
    params: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_SAMPLING_PARAMS))

    def __post_init__(self) -> None:
        if not self.kind:
            raise InvalidInput("loop", "sampling.kind", "must name a sampling policy")

    def __hash__(self) -> int:
        return hash((self.kind, tuple(sorted((k, repr(v)) for k, v in self.params.items()))))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "params": dict(self.params)}


@dataclass(frozen=True)
class LoopConfig:
    """Targets, sampling, recommender guardrails and the dataset profile of one shadow loop."""

    target: float = 0.85  # required machine acceptance
    alpha: float = 0.05  # error probability of the gate and the recommender
    audit_floor: float = DEFAULT_AUDIT_FLOOR  # smallest π of a frame eligible to ship; bets are sized for 1/floor
    sampling: SamplingSpec = field(default_factory=SamplingSpec)
    consensus_share: float = 0.1  # share of manual tasks with a second, independent copy
    max_step: float = 0.10  # largest change of the automation rate per recommender step
    window: int = 150  # machine comparisons per recommender step; the first places the threshold grid
    salt: str = "shadowqa"  # routing hash salt: the same salt routes a recorded stream the same way
    dataset: str = "driving"  # dataset profile: categories, QA spec, reference model, frame source
    auto_apply: bool = True  # publish each recommended policy to `policies`
    pending_ttl: float = 3600.0  # seconds an incomplete comparison waits before it is expired and counted

    def __post_init__(self) -> None:
        for name in ("target", "alpha", "audit_floor"):
            _check(name, getattr(self, name), 0.0 < getattr(self, name) < 1.0, "in (0, 1)")
        _check("consensus_share", self.consensus_share, 0.0 <= self.consensus_share <= 1.0, "in [0, 1]")
        _check("max_step", self.max_step, 0.0 < self.max_step <= 1.0, "in (0, 1]")
        _check("window", self.window, self.window >= 1, ">= 1")
        _check("pending_ttl", self.pending_ttl, self.pending_ttl > 0.0, "> 0")
        build_sampling(self.sampling, self.audit_floor)  # the registry validates kind and parameters

    @property
    def max_weight(self) -> float:
        """Largest 1/π a shipped-eligible frame can carry: what bets and gates are sized for."""
        return 1.0 / self.audit_floor

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "alpha": self.alpha, "audit_floor": self.audit_floor,
            "sampling": self.sampling.to_dict(), "consensus_share": self.consensus_share, "max_step": self.max_step,
            "window": self.window, "salt": self.salt, "dataset": self.dataset, "auto_apply": self.auto_apply,
            "pending_ttl": self.pending_ttl,
        }


def _check(name: str, value: object, ok: bool, must: str) -> None:
    if not ok:
        raise InvalidInput("loop", name, f"must be {must}, got {value}")


def build_sampling(spec: SamplingSpec, audit_floor: float) -> SamplingPolicy:
    """The audit sampling policy ``spec`` names, from the registry (``analysis/sampling/registry.py``); a policy
    that takes a ``floor`` gets the loop's audit floor unless its parameters name one."""
    params = dict(spec.params)
    if "floor" in policy_params(spec.kind):
        params.setdefault("floor", audit_floor)
    return build_policy(spec.kind, params)
