"""The guarantee under 1/π weighting: frames compared with π from 0.5 (confidence 0.5) down to 0.02.

FWER over 400 seeded populations of 100,000 frames (about 11,000 compared),
target 0.85: failures must stay within the binomial 99.9% quantile at α = 0.05
(35 of 400). The naive weighted point-estimate rule fails far more often on the
same data. Power: with 10^6 frames (about 100,000 compared) the recommended
rate reaches ≥ 80% of the oracle's.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tests.analysis.recommend.simulation import ALPHA, POP, recommender, simulate

TARGET = 0.85
RATES = np.round(np.arange(0.02, 0.61, 0.02), 2)


@pytest.mark.slow
def test_family_wise_error_at_most_alpha_with_weights() -> None:
    rec, runs = recommender(TARGET, RATES), 400
    results = [simulate(rec, seed, 100_000, weighted=True) for seed in range(runs)]
    failures = sum(r.failed for r in results)
    naive = sum(r.naive_failed for r in results)
    allowed = stats.binom.ppf(0.999, runs, ALPHA)
    recommended = sum(np.isfinite(r.tau) for r in results)
    assert failures <= allowed, f"{failures}/{runs} weighted runs shipped below target (allowed {allowed:.0f})"
    assert naive > allowed, f"the naive rule failed only {naive}/{runs}: the simulation is too easy to tell"
    assert recommended >= 0.5 * runs, f"only {recommended}/{runs} runs recommended a threshold"


@pytest.mark.slow
def test_power_with_weights_and_plenty_of_data() -> None:
    rec, oracle = recommender(TARGET, RATES), POP.oracle_rate(TARGET)
    shares = [simulate(rec, 2000 + seed, 1_000_000, weighted=True).rate / oracle for seed in range(5)]
    assert min(shares) >= 0.8, f"recommended / oracle automation rate per run: {np.round(shares, 3)}"
