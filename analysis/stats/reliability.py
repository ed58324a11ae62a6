"""Chance-corrected agreement between labellers on categorical labels."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float:
    """Cohen's kappa of two labellers over the same items; NaN when chance agreement is 1."""
    if len(first) != len(second):
        raise ValueError(f"label sequences differ in length: {len(first)} and {len(second)}")
    codes = {label: i for i, label in enumerate(dict.fromkeys([*first, *second]))}
    k = len(codes)
    table = np.zeros((k, k))
    np.add.at(table, ([codes[a] for a in first], [codes[b] for b in second]), 1.0)
    n = table.sum()
    if n == 0:
        return math.nan
    observed = np.trace(table) / n
    expected = float(table.sum(axis=1) @ table.sum(axis=0)) / (n * n)
    return math.nan if expected == 1.0 else float((observed - expected) / (1.0 - expected))


def krippendorff_alpha(units: Sequence[Sequence[Hashable | None]]) -> float:
    """Krippendorff's alpha for nominal labels; ``units[u]`` lists the labels coders gave
    item ``u`` (``None`` where a coder gave none). Items with fewer than two labels
    are not pairable and drop out, as in Krippendorff (2011)."""
    values = sorted({v for unit in units for v in unit if v is not None}, key=repr)
    codes = {v: i for i, v in enumerate(values)}
    counts = np.zeros((len(units), len(values)))
    for u, unit in enumerate(units):
        for v in unit:
            if v is not None:
                counts[u, codes[v]] += 1.0
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    if len(m) == 0:
        return math.nan
    scaled = counts / (m - 1.0)[:, None]
    coincidence = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    disagree_expected = n * n - float(n_c @ n_c)
    if disagree_expected == 0:
        return math.nan
    return float(1.0 - (n - 1.0) * (n - np.trace(coincidence)) / disagree_expected)
