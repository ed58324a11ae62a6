"""A simulated frame population for the recommender's tests, with its true acceptance curve.

Confidence ~ Beta(a, b) and P(accepted | confidence) = confidence^k, so the
acceptance among frames above τ has a closed form:

    θ(τ) = B(a + k, b) / B(a, b) · P(Beta(a + k, b) ≥ τ) / P(Beta(a, b) ≥ τ),

which rises with τ; the oracle threshold is where θ meets the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from analysis.observations import Observations
from analysis.policy.automation import ALL


@dataclass(frozen=True)
class Population:
    a: float = 4.0
    b: float = 1.5
    k: float = 1.5

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Confidences and acceptances of ``n`` frames."""
        confidence = rng.beta(self.a, self.b, size=n)
        return confidence, rng.random(n) < confidence**self.k

    def theta(self, tau: float) -> float:
        """True acceptance among frames with confidence ≥ τ."""
        scale = np.exp(special.betaln(self.a + self.k, self.b) - special.betaln(self.a, self.b))
        return float(scale * stats.beta.sf(tau, self.a + self.k, self.b) / stats.beta.sf(tau, self.a, self.b))

    def rate(self, tau: float) -> float:
        """True automation rate at τ: the share of frames with confidence ≥ τ."""
        return 0.0 if not np.isfinite(tau) else float(stats.beta.sf(tau, self.a, self.b))

    def oracle_rate(self, target: float) -> float:
        """The largest automation rate whose shipped acceptance meets the target."""
        tau = optimize.brentq(lambda t: self.theta(t) - target, 1e-6, 1 - 1e-9)
        return self.rate(tau)

    def thresholds_at(self, rates: Sequence[float]) -> tuple[float, ...]:
        """Candidate thresholds at given automation rates, fixed before any data is drawn."""
        return tuple(float(t) for t in stats.beta.isf(np.asarray(rates), self.a, self.b))


def columns(confidence: np.ndarray, accepted: np.ndarray, pi: np.ndarray | None = None,
            stratum: str = ALL, first: int = 0) -> Observations:
    """Observations built column-wise (fast for simulations of 10^5 frames)."""
    n = len(confidence)
    return Observations(
        frame_id=tuple(f"f{first + i}" for i in range(n)), accepted=np.asarray(accepted, dtype=bool),
        inclusion_prob=np.ones(n) if pi is None else np.asarray(pi, dtype=np.float64), stratum=(stratum,) * n,
        confidence=np.asarray(confidence, dtype=np.float64), model_version=("",) * n, time=np.arange(n, dtype=float),
    )


def confidence_weighted_pi(confidence: np.ndarray) -> np.ndarray:
    """π from 0.5 at confidence 0.5 down to 0.02 at confidence 1: hard frames audited most."""
    return np.clip(0.02 + 0.48 * (1.0 - confidence) / 0.5, 0.02, 0.5)
