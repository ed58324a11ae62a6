"""The arithmetic of the betting capital processes, vectorised over runs, time and candidate means.

Observations are the *sampled* frames: frame i was sent to people with a known
inclusion probability π_i, so it carries the weight w_i = 1/π_i and the outcome
A_i ∈ {0, 1}. With v_i = w_i / w_max in (0, 1] (w_max = ``max_weight``, the inverse
of the router's sampling floor), the gambler testing H0: μ ≤ m holds

    K⁺_t(m) = Π_{i ≤ t} (1 + λ_i(m) · v_i · (A_i − m)),   λ_i(m) = min(λ̃_i, c / m),

and the one testing H0: μ ≥ m holds K⁻_t(m) = Π (1 + min(λ̃_i, c / (1 − m)) · v_i · (m − A_i)).

Why K⁺(m) is a supermartingale under H0: frames arrive independently from one
population and each is sampled with its π, so a sampled frame has density
∝ π(x)·p(x) and E[v·(A − m)] = (μ − m) / (w_max · E[π]) ≤ 0. The bet λ̃_i is
predictable — computed from the observations before i, never from w_i, because
E[A − m | w] may be positive for some weights even when μ ≤ m — and v_i ≤ 1 with
c < 1 keeps each factor ≥ 1 − c > 0. By Ville's inequality a true null's capital
ever reaches 1/α with probability at most α.

λ̃ is the predictable plug-in bet of Waudby-Smith & Ramdas ("Estimating means of
bounded random variables by betting", JRSS-B 2024), λ^PrPl, with their
hedged-capital truncations c/m and c/(1 − m); with v = 1 this is their one-sided
betting test exactly.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from analysis.annotations.model_types import FloatArray, IntArray

Side = Literal["lower", "upper"]

TRUNCATION = 0.5  # c: a frame costs at most half the capital
PRIOR_MEAN = 0.5  # one pseudo-observation regularises the running mean and variance behind the bets
PRIOR_VARIANCE = 0.25


def bets(
    a: FloatArray, v: FloatArray, alpha: float, n: int = 0, sums: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> tuple[FloatArray, tuple[FloatArray, FloatArray, FloatArray]]:
    """Predictable bets λ̃ along the last axis, and the running sums (Σv, Σv·A, Σ squares) after each step.

    λ̃_t = sqrt(2 log(1/α) / (σ̂²_{t−1} · t · log(1 + t))) with σ̂²_{t−1} the regularised mean
    square of v·(A − μ̂) over the observations before t: the bet shrinks like 1/sqrt(t log t),
    the rate at which a confidence sequence can narrow. ``n`` and ``sums`` continue a stream.
    """
    lead = a.shape[:-1]
    t = n + np.arange(1, a.shape[-1] + 1, dtype=np.float64)
    sum_v = accumulate(np.full(lead, sums[0]), v)
    sum_va = accumulate(np.full(lead, sums[1]), v * a)
    mean = (PRIOR_MEAN + sum_va) / (1.0 + sum_v)
    sum_sq = accumulate(np.full(lead, sums[2]), (v * (a - mean)) ** 2)
    before = np.concatenate([np.full((*lead, 1), sums[2]), sum_sq[..., :-1]], axis=-1)
    variance = (PRIOR_VARIANCE + before) / t
    lam: FloatArray = np.sqrt(2.0 * math.log(1.0 / alpha) / (variance * t * np.log1p(t)))
    return lam, (sum_v, sum_va, sum_sq)


def log_factors(a: FloatArray, v: FloatArray, lam: FloatArray, m: FloatArray | float, side: Side) -> FloatArray:
    """log(1 + λ(m)·v·(A − m)) (lower side) or log(1 + λ(m)·v·(m − A)) (upper side), broadcast."""
    m = np.asarray(m, dtype=np.float64)
    with np.errstate(divide="ignore"):
        cap = TRUNCATION / (m if side == "lower" else 1.0 - m)
    gain = a - m if side == "lower" else m - a
    out: FloatArray = np.log1p(np.minimum(lam, cap) * v * gain)
    return out


def accumulate(start: FloatArray, steps: FloatArray, axis: int = -1) -> FloatArray:
    """start + s₀, (start + s₀) + s₁, …: summed strictly in order, so that however a stream
    is split into batches the running sums are the same floating-point numbers."""
    out: FloatArray = np.cumsum(np.concatenate([np.expand_dims(start, axis), steps], axis=axis), axis=axis)
    return np.delete(out, 0, axis=axis)


def next_unrejected(rejected: np.ndarray) -> IntArray:
    """Per row, for each column j, the first column ≥ j not rejected (the width if none)."""
    width = rejected.shape[-1]
    idx = np.where(rejected, width, np.arange(width))
    idx = np.concatenate([idx, np.full((*idx.shape[:-1], 1), width)], axis=-1)
    out: IntArray = np.minimum.accumulate(idx[..., ::-1], axis=-1)[..., ::-1]
    return out


def previous_unrejected(rejected: np.ndarray) -> IntArray:
    """Per row, for each column j, the last column ≤ j not rejected (−1 if none)."""
    idx = np.where(rejected, -1, np.arange(rejected.shape[-1]))
    out: IntArray = np.maximum.accumulate(idx, axis=-1)
    return out
