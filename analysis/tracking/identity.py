"""ID measures (IDF1, IDP, IDR) exactly as py-motmetrics 1.4.0 computes them.

Every gt track is paired with at most one hypothesis track for the whole clip, choosing the pairing that
maximises the detections where the two are matchable (same frame, ``1 - IoU`` within the threshold; not only
where CLEAR matched them). motmetrics minimises ``IDFN + IDFP`` over the same bipartite graph, which is the
same optimum: ``IDFN = gt detections - IDTP`` and ``IDFP = hypothesis detections - IDTP``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from analysis.tracking.columns import FloatArray, IntArray
from analysis.tracking.pairs import ClipPairs
from analysis.tracking.ratios import quiet_divide


@dataclass(frozen=True)
class IdentityMetrics:
    """Global identity matching counts and the scores derived from them (NaN where a denominator is 0)."""

    idtp: int
    idfp: int
    idfn: int
    idp: float
    idr: float
    idf1: float


def identity_metrics(pairs: ClipPairs, dist: FloatArray) -> IdentityMetrics:
    """ID measures from the pair distances (NaN where a pair cannot match)."""
    matchable = np.flatnonzero(np.isfinite(dist))
    g = pairs.gt.ids[pairs.gt_row[matchable]]
    h = pairs.hyp.ids[pairs.hyp_row[matchable]]
    idtp = _best_overlap(g, h)
    num_objects, num_predictions = len(pairs.gt), len(pairs.hyp)
    idfn, idfp = num_objects - idtp, num_predictions - idtp
    return IdentityMetrics(
        idtp=idtp, idfp=idfp, idfn=idfn,
        idp=quiet_divide(idtp, idtp + idfp), idr=quiet_divide(idtp, idtp + idfn),
        idf1=quiet_divide(2 * idtp, num_objects + num_predictions),
    )


def _best_overlap(g: IntArray, h: IntArray) -> int:
    """Largest total co-occurrence count over one-to-one pairings of gt tracks ``g`` with hyp tracks ``h``."""
    if len(g) == 0:
        return 0
    gu, gi = np.unique(g, return_inverse=True)
    hu, hi = np.unique(h, return_inverse=True)
    counts = np.zeros((len(gu), len(hu)))
    np.add.at(counts, (gi, hi), 1.0)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return int(counts[rows, cols].sum())
