"""Seeded simulations of the recommender against the population's true acceptance curve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.policy.automation import ALL
from analysis.recommend import Guardrails, Hysteresis, MaxStep, Recommender, RecommenderConfig
from tests.analysis.recommend.population import Population, columns, confidence_weighted_pi

POP = Population()
ALPHA = 0.05


@dataclass(frozen=True)
class Run:
    """One simulated data set: the recommended threshold and a naive rule's, with their true acceptance."""

    tau: float
    naive_tau: float
    target: float

    @property
    def failed(self) -> bool:
        """The recommended threshold ships frames whose true acceptance is below target."""
        return bool(np.isfinite(self.tau) and POP.theta(self.tau) < self.target)

    @property
    def naive_failed(self) -> bool:
        return bool(np.isfinite(self.naive_tau) and POP.theta(self.naive_tau) < self.target)

    @property
    def rate(self) -> float:
        return POP.rate(self.tau)


def recommender(target: float, rates: Sequence[float]) -> Recommender:
    """Candidates at fixed automation rates of the population; guardrails off, to see the test alone."""
    return Recommender(RecommenderConfig(target=target, alpha=ALPHA, candidates=POP.thresholds_at(rates),
                                         guardrails=Guardrails(MaxStep(1.0), Hysteresis(0.0))))


def simulate(rec: Recommender, seed: int, frames: int, weighted: bool) -> Run:
    """``frames`` arrive; all are compared (π = 1) or a confidence-weighted sample (π 0.02–0.5)."""
    rng = np.random.default_rng(seed)
    confidence, accepted = POP.draw(rng, frames)
    pi = confidence_weighted_pi(confidence) if weighted else np.ones(frames)
    seen = rng.random(frames) < pi
    obs = columns(confidence[seen], accepted[seen], pi[seen])
    result = rec.calculate(obs, max_weight=50.0 if weighted else 1.0)
    return Run(result.thresholds[ALL], _naive(rec, obs.confidence, obs.accepted, obs.weight), rec.config.target)


def _naive(rec: Recommender, confidence: np.ndarray, accepted: np.ndarray, weight: np.ndarray) -> float:
    """The lowest candidate whose weighted point estimate meets the target: no test, no error control."""
    passing = [tau for tau in rec.config.candidates
               if (weight * accepted)[confidence >= tau].sum() >= rec.config.target * weight[confidence >= tau].sum()
               and (confidence >= tau).any()]
    return min(passing, default=np.inf)
