"""Neyman allocation: the audit budget shared across strata in proportion to size × spread of acceptance.

For an estimate of overall acceptance from strata h = 1..H of N_h eligible frames, the variance
Σ_h N_h² S_h² (1/n_h − 1/N_h) at a fixed total n = Σ n_h is smallest with n_h ∝ N_h·S_h
(Neyman 1934; Cochran, *Sampling Techniques*, 3rd ed. 1977, §5.5 optimum allocation), where
S_h = sqrt(p_h (1 − p_h)) is the spread of a frame's accept/reject outcome in stratum h. As an
inclusion probability: π_h = n_h / N_h = λ·S_h. The audit floor and π ≤ 1 bound it,
f·N_h ≤ n_h ≤ N_h (Cochran's remark after §5.5 on n_h > N_h: take such strata whole and
re-allocate the rest), and the bounded optimum (its KKT conditions) is

    π_h = clip(λ·S_h, f, 1),   λ solving Σ_h N_h·clip(λ·S_h, f, 1) = rate · Σ_h N_h,

so the budget (expected audits per eligible frame = ``rate``) is met exactly and the mass capped at 1
or raised to the floor is redistributed over the other strata. λ is found exactly: the left side is
piecewise linear in λ with breaks at f/S_h and 1/S_h. If the floor alone exceeds the budget every
stratum is at the floor (the floor wins, as with the budget wrapper).

S_h is estimated as evidence comes in: p̃_h = (n_h·p̂_h + k·p₀)/(n_h + k), a prior p₀ (0.5, the widest
spread) worth k comparisons, so a stratum without evidence gets the prior's spread and no stratum with
finite evidence gets S_h = 0, which would starve it of audits. N_h is the frames seen per stratum
(``StratumEvidence.frames``). Before any evidence π = ``rate`` for every frame (uniform); a stratum
absent from the evidence gets clip(λ·S(p₀), f, 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Self

from analysis.policy.automation import FrameInfo
from analysis.sampling.evidence import Evidence, StratumEvidence
from analysis.sampling.exceptions import InvalidPolicy
from analysis.sampling.policies import SamplingState, Stateless
from analysis.sampling.registry import register


def neyman_scale(sizes: Mapping[str, float], spreads: Mapping[str, float], rate: float, floor: float) -> float:
    """λ with Σ_h N_h·clip(λ·S_h, floor, 1) = rate·Σ_h N_h (0 when the floor alone meets or passes the budget)."""
    if not all(s > 0.0 for s in spreads.values()):
        raise InvalidPolicy("sampling policy", "NeymanAllocation", f"spreads must be > 0, got {dict(spreads)}")
    strata = [(sizes[h], spreads[h]) for h in sizes if sizes[h] > 0]
    total = sum(n for n, _ in strata)
    budget = rate * total

    def audits(scale: float) -> float:
        return sum(n * min(1.0, max(floor, scale * s)) for n, s in strata)

    if not strata or budget <= floor * total:
        return 0.0
    breaks = sorted({floor / s for _, s in strata} | {1.0 / s for _, s in strata})
    low, at_low = 0.0, floor * total
    for high in breaks:
        at_high = audits(high)
        if at_high >= budget:
            return low + (budget - at_low) * (high - low) / (at_high - at_low)
        low, at_low = high, at_high
    return breaks[-1]  # rate 1: every stratum whole


def neyman_probabilities(
    sizes: Mapping[str, float], spreads: Mapping[str, float], rate: float, floor: float,
) -> dict[str, float]:
    """π_h = clip(λ·S_h, floor, 1) for every stratum in ``spreads``, λ from :func:`neyman_scale`."""
    scale = neyman_scale(sizes, spreads, rate, floor)
    return {h: min(1.0, max(floor, scale * s)) for h, s in spreads.items()}


def shrunk_spread(evidence: StratumEvidence, prior: float, prior_weight: float) -> float:
    """sqrt(p̃(1 − p̃)) with p̃ the stratum's acceptance shrunk towards ``prior`` by ``prior_weight`` comparisons."""
    n = evidence.n if evidence.n > 0 and not math.isnan(evidence.acceptance) else 0
    p = (n * (evidence.acceptance if n else 0.0) + prior_weight * prior) / (n + prior_weight)
    return math.sqrt(p * (1.0 - p))


@register("neyman")
@dataclass(frozen=True)
class NeymanAllocation(Stateless):
    """Audit π per stratum ∝ the stratum's spread of acceptance, sized to ``rate`` audits per eligible frame."""

    rate: float
    floor: float = 0.02
    prior: float = 0.5
    prior_weight: float = 2.0
    allocation: Mapping[str, float] = field(default_factory=dict, metadata={"param": False})
    unseen: float = field(default=math.nan, metadata={"param": False})  # π of a stratum without evidence

    def __post_init__(self) -> None:
        for name in ("rate", "floor"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise InvalidPolicy("sampling policy", f"NeymanAllocation.{name}",
                                    f"must be in (0, 1], got {getattr(self, name)}")
        if not (0.0 < self.prior < 1.0 and self.prior_weight > 0.0):
            raise InvalidPolicy("sampling policy", "NeymanAllocation",
                                f"needs prior in (0, 1) and prior_weight > 0, got {self.prior}, {self.prior_weight}")

    def probability(self, frame: FrameInfo, state: SamplingState) -> float:
        pi = self.allocation.get(frame.stratum, self.unseen)
        return min(1.0, max(self.floor, self.rate if math.isnan(pi) else pi))

    def with_evidence(self, evidence: Evidence) -> Self:
        """The allocation re-solved from the strata's frames seen and shrunk acceptance spreads."""
        sizes = {h: float(e.frames) for h, e in evidence.items()}
        if sum(sizes.values()) <= 0:
            return replace(self, allocation={}, unseen=math.nan)
        spreads = {h: shrunk_spread(e, self.prior, self.prior_weight) for h, e in evidence.items()}
        scale = neyman_scale(sizes, spreads, self.rate, self.floor)
        prior_spread = math.sqrt(self.prior * (1.0 - self.prior))
        allocation = {h: min(1.0, max(self.floor, scale * s)) for h, s in spreads.items()}
        return replace(self, allocation=allocation, unseen=min(1.0, max(self.floor, scale * prior_spread)))
