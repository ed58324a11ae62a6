"""What the loop has learnt per stratum, handed to a sampling policy so it can adapt.

The loop calls ``router.with_evidence(evidence)`` (or ``policy.with_evidence``) whenever its per-stratum
folds have new results, at the same points online and in replay, so both route the same frames the same
way: naturally where it already calls ``router.with_policy`` (each recommender step), and online the
evidence travels to the router with the policy update. A policy that does not learn returns itself; the
loop never knows which policy it holds, and π stays a pure function of (policy as adapted, frame).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from analysis.sampling.exceptions import InvalidPolicy


@dataclass(frozen=True)
class StratumEvidence:
    """One stratum's evidence: audited comparisons, their 1/π-weighted acceptance, frames seen.

    ``frames`` counts the frames of the stratum the sampling policy was asked about (those eligible to
    ship, ``AutomationPolicy.ships``); ``n`` the audited frames compared so far; ``acceptance`` their
    1/π-weighted acceptance estimate (NaN while ``n`` is 0). The stratum's acceptance over all its compared
    frames is an acceptable stand-in while few frames ship.
    """

    n: int = 0
    acceptance: float = math.nan
    frames: int = 0

    def __post_init__(self) -> None:
        if self.n < 0 or self.frames < 0:
            raise InvalidPolicy("stratum evidence", "n/frames", f"must be >= 0, got n={self.n}, frames={self.frames}")
        if self.n > 0 and not 0.0 <= self.acceptance <= 1.0:
            raise InvalidPolicy("stratum evidence", "acceptance", f"must be in [0, 1], got {self.acceptance}")


Evidence = Mapping[str, StratumEvidence]


def evidence(counted: Mapping[str, tuple[int, float]], frames: Mapping[str, int]) -> dict[str, StratumEvidence]:
    """Per stratum: ``counted`` (audited machine comparisons, their 1/π-weighted acceptance, NaN at 0) with
    ``frames`` (frames seen eligible to ship); a stratum in only one of them gets zeros for the other."""
    out = {s: StratumEvidence(n, acceptance if n else math.nan, frames.get(s, 0)) for s, (n, acceptance)
           in counted.items()}
    return {**{s: StratumEvidence(frames=n) for s, n in frames.items() if s not in out}, **out}
