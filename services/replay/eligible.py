"""The acceptance of the frames eligible to ship, as their audits estimate it: what an audit allocation decides.

Frames below the threshold go to people at π = 1 whatever the sampling policy; only the frames eligible to
ship are sampled, at the policy's π. Their acceptance, stratified over strata (N_h eligible frames, p̂_h the
1/π-weighted audits; :func:`analysis.stats.stratified.stratified_ratio`), is the estimate whose variance
Σ_h W_h²·S_h²·(1/n_h − 1/N_h) the allocation of the n_h audits decides (Neyman allocation minimises it).
Beside it, known only in replay: the true acceptance of those frames and ``design_width``, the width a
normal interval would have at that variance with the true S_h and the realised n_h: the allocation's
effect without the noise of which audited frames happened to be rejected.
"""

from __future__ import annotations

import math
from collections import Counter
from statistics import NormalDist
from typing import Any

import numpy as np

from analysis.stats import RatioState
from analysis.stats.stratified import stratified_ratio
from services.replay.clip_data import Replayed
from services.replay.loop import LoopRun


def eligible_acceptance(data: Replayed, run: LoopRun, alpha: float) -> dict[str, Any]:
    """The stratified estimate of the eligible frames' acceptance with its (1 − α) interval, and its truth."""
    eligible = np.array(run.eligible, dtype=bool)
    strata = np.array([i.stratum for i in data.info])
    sizes = Counter(strata[eligible].tolist())
    audited = {d.frame_id for d, e in zip(run.decisions, eligible, strict=True) if e and d.route == "manual"}
    states: dict[str, RatioState] = {}
    for o in run.observations:
        if o.frame_id in audited:
            states[o.stratum] = states.get(o.stratum, RatioState()).add(float(o.accepted), 1.0, o.weight)
    est = stratified_ratio({h: (float(n), states.get(h, RatioState())) for h, n in sizes.items()}, 1.0 - alpha)
    audits = Counter(s for s, d, e in zip(strata, run.decisions, eligible, strict=True) if e and d.route == "manual")
    truth = {h: data.true_accepted[eligible & (strata == h)] for h in sizes}
    return {"estimate": None if math.isnan(est.estimate) else est.estimate, "lower": est.lower, "upper": est.upper,
            "width": est.width, "n": est.n, "frames": int(eligible.sum()), "audits": len(audited),
            "strata": len(sizes), "true": float(data.true_accepted[eligible].mean()) if eligible.any() else None,
            "design_width": design_width(truth, audits, alpha), "method": "stratified-hajek-wilson"}


def design_width(truth: dict[str, np.ndarray], audits: Counter[str], alpha: float) -> float | None:
    """2·z·sqrt(Σ_h W_h²·S_h²·(1/n_h − 1/N_h)) from each stratum's true outcomes and its audits n_h
    (infinite when a stratum of varying outcomes has no audit; None without eligible frames)."""
    total = sum(y.size for y in truth.values())
    if total == 0:
        return None
    variance = 0.0
    for h, y in truth.items():
        spread = float(y.var(ddof=1)) if y.size > 1 else 0.0
        if spread == 0.0:
            continue
        if audits[h] == 0:
            return math.inf
        variance += (y.size / total) ** 2 * spread * (1.0 / audits[h] - 1.0 / y.size)
    return 2.0 * NormalDist().inv_cdf(1.0 - alpha / 2.0) * math.sqrt(max(0.0, variance))
