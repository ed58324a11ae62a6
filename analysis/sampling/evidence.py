"""What the loop has learnt per stratum, handed to a sampling policy so it can adapt.

The loop calls ``router.with_evidence(evidence)`` (or ``policy.with_evidence``) whenever its per-stratum
folds have new results, at the same points online and in replay, so both route the same frames the same
way: naturally where it already calls ``router.with_policy`` (each recommender step), and online the
evidence travels to the router with the policy update. A policy that does not learn returns itself; the
loop never knows which policy it holds, and π stays a pure function of (policy as adapted, frame).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from analysis.policy.automation import AutomationPolicy, FrameInfo
from analysis.sampling.exceptions import InvalidPolicy

RECENT_FRAMES = 1000


@dataclass(frozen=True)
class StratumEvidence:
    """One stratum's evidence: audited comparisons, their 1/π-weighted acceptance, frames eligible.

    ``frames`` counts the stratum's frames eligible to ship under the policy about to route
    (``AutomationPolicy.ships``) among the recent frames (:class:`RecentFrames`): the mix of strata
    the next audits are drawn from; ``n`` the audited frames compared so far; ``acceptance`` their
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


@dataclass
class RecentFrames:
    """The last ``size`` frames a router saw (eligible or not), to count each stratum's frames eligible under a
    policy about to route: the mix the next audits come from.

    Counting the frames that were eligible under the policies in force when they arrived lags whenever the
    threshold moves or a stratum starts to ship (the mix of eligible frames changes with τ), and the audits
    then drift off the budget: in the two-camera replay (``benchmarks/sampling.py``) a stratum with no
    frames eligible so far was left out of the budget and then audited at 0.7 once it shipped, 9 % over
    budget in one seed. Counting the recent frames under the new policy sizes the strata as they will be
    (for as long as the recent frames are like the next ones).
    """

    size: int = RECENT_FRAMES
    frames: deque[FrameInfo] = field(init=False)

    def __post_init__(self) -> None:
        if self.size < 1:
            raise InvalidPolicy("recent frames", "size", f"must be >= 1, got {self.size}")
        self.frames = deque(maxlen=self.size)

    def add(self, frame: FrameInfo) -> None:
        self.frames.append(frame)

    def eligible(self, policy: AutomationPolicy) -> dict[str, int]:
        """Per stratum: the recent frames ``policy`` would ship."""
        return dict(Counter(f.stratum for f in self.frames if policy.ships(f)))
