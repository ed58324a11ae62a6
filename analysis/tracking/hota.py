"""HOTA and its parts exactly as TrackEval's ``trackeval/metrics/hota.py`` computes them for 2D boxes.

Similarity is box IoU. Each gt/hyp track pair gets a global alignment score (their summed per-frame
IoU-normalised similarity over ``dets_gt + dets_hyp - that sum``); each frame matches detections to maximise
alignment × similarity; a match counts at localisation threshold alpha when its IoU >= alpha, for alpha =
0.05, 0.10, …, 0.95. DetA, AssA and LocA are computed per alpha; the reported values are their means over the
19 alphas, HOTA being the mean of sqrt(DetA × AssA). As in TrackEval, a clip where either side has no
detections scores 0 on everything but LocA, which is 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from analysis.tracking.columns import FloatArray, IntArray
from analysis.tracking.pairs import ClipPairs

ALPHAS = np.arange(0.05, 0.99, 0.05)  # TrackEval's array_labels, to the last bit
_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class HotaMetrics:
    """Each value the mean over the 19 localisation thresholds alpha (what TrackEval's summary reports)."""

    hota: float
    deta: float
    assa: float
    loca: float
    detre: float
    detpr: float
    assre: float
    asspr: float


@dataclass(frozen=True)
class _Overlaps:
    """The detection pairs with positive similarity (the only ones that can match), and their track pairs."""

    pair: IntArray  # index into the clip's pairs, in frame order
    sim: FloatArray
    track_pair: IntArray  # per overlap, index of its (gt track, hyp track) pair
    gt_dets: FloatArray  # per track pair, detections of its gt track and of its hyp track
    hyp_dets: FloatArray


def hota_metrics(pairs: ClipPairs) -> HotaMetrics:
    """HOTA of one clip from its in-frame pairs (IoU similarity)."""
    if len(pairs.gt) == 0 or len(pairs.hyp) == 0:
        return HotaMetrics(0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    sim = pairs.trackeval_iou()
    over = _overlaps(pairs, sim)
    matched = _matches(pairs, sim, over, _alignment(pairs, sim, over))
    return _scores(pairs, over.sim[matched], over, over.track_pair[matched])


def _overlaps(pairs: ClipPairs, sim: FloatArray) -> _Overlaps:
    pair = np.flatnonzero(sim > 0)
    width = pairs.hyp.num_tracks
    keys, track_pair = np.unique(pairs.gt.ids[pairs.gt_row[pair]] * width + pairs.hyp.ids[pairs.hyp_row[pair]],
                                 return_inverse=True)
    gt_dets = np.bincount(pairs.gt.ids, minlength=pairs.gt.num_tracks).astype(np.float64)
    hyp_dets = np.bincount(pairs.hyp.ids, minlength=pairs.hyp.num_tracks).astype(np.float64)
    return _Overlaps(pair, sim[pair], track_pair.astype(np.int64), gt_dets[keys // width], hyp_dets[keys % width])


def _alignment(pairs: ClipPairs, sim: FloatArray, over: _Overlaps) -> FloatArray:
    """Per track pair, TrackEval's global alignment score (pairs that never overlap score 0 and never match)."""
    row_sum, col_sum = np.zeros(len(pairs.gt)), np.zeros(len(pairs.hyp))
    for f in _frames_of(pairs, over.pair):  # per frame, as TrackEval sums its similarity matrix
        s = _frame(pairs, sim, f)
        row_sum[pairs.gt.start[f]:pairs.gt.start[f + 1]] = s.sum(1)
        col_sum[pairs.hyp.start[f]:pairs.hyp.start[f + 1]] = s.sum(0)
    denom = col_sum[pairs.hyp_row[over.pair]] + row_sum[pairs.gt_row[over.pair]] - over.sim
    normalised = np.where(denom > 0 + _EPS, over.sim / np.where(denom > 0 + _EPS, denom, 1.0), 0.0)
    potential = np.bincount(over.track_pair, weights=normalised)  # adds frame after frame, as TrackEval does
    alignment: FloatArray = potential / (over.gt_dets + over.hyp_dets - potential)
    return alignment


def _matches(pairs: ClipPairs, sim: FloatArray, over: _Overlaps, alignment: FloatArray) -> IntArray:
    """Overlap indices of each frame's assignment maximising alignment × similarity (TrackEval's)."""
    score = np.zeros(len(sim))
    score[over.pair] = alignment[over.track_pair] * over.sim
    chosen: list[IntArray] = []
    for f in _frames_of(pairs, over.pair):
        rows, cols = linear_sum_assignment(-_frame(pairs, score, f))
        chosen.append(pairs.start[f] + rows * pairs.hyp.count(f) + cols)
    picked = np.concatenate(chosen) if chosen else np.empty(0, np.int64)
    index = np.searchsorted(over.pair, picked)
    found = (index < len(over.pair)) & (over.pair[np.minimum(index, len(over.pair) - 1)] == picked)
    matched: IntArray = index[found].astype(np.int64)  # pairs of similarity 0 were assigned only to fill the frame
    return matched


def _scores(pairs: ClipPairs, sim: FloatArray, over: _Overlaps, matched: IntArray) -> HotaMetrics:
    """Per-alpha counts and ratios from the matched pairs' IoU and track pairs, then their means."""
    at_alpha = sim[np.newaxis, :] >= (ALPHAS - _EPS)[:, np.newaxis]  # (alphas, matches)
    tp = at_alpha.sum(1).astype(np.float64)
    fn, fp = len(pairs.gt) - tp, len(pairs.hyp) - tp
    loca = np.maximum(1e-10, (at_alpha * sim).sum(1)) / np.maximum(1e-10, tp)
    ass = np.array([_association(over, matched[m]) for m in at_alpha]).T / np.maximum(1, tp)
    detre, detpr = tp / np.maximum(1, tp + fn), tp / np.maximum(1, tp + fp)
    deta = tp / np.maximum(1, tp + fn + fp)
    hota = np.sqrt(deta * ass[0])
    return HotaMetrics(*(float(np.mean(v)) for v in (hota, deta, ass[0], loca, detre, detpr, ass[1], ass[2])))


def _association(over: _Overlaps, matched: IntArray) -> tuple[float, float, float]:
    """At one alpha, sums over track pairs of matches × their AssA, AssRe and AssPr ratios (before / TP)."""
    count = np.bincount(matched, minlength=len(over.gt_dets)).astype(np.float64)
    hit = count > 0
    c, g, h = count[hit], over.gt_dets[hit], over.hyp_dets[hit]
    return (float(np.sum(c * (c / np.maximum(1, g + h - c)))), float(np.sum(c * (c / np.maximum(1, g)))),
            float(np.sum(c * (c / np.maximum(1, h)))))


def _frames_of(pairs: ClipPairs, pair: IntArray) -> list[int]:
    """The frames holding these pairs, ascending."""
    frames: list[int] = np.unique(np.searchsorted(pairs.start, pair, side="right") - 1).tolist()
    return frames


def _frame(pairs: ClipPairs, values: FloatArray, f: int) -> FloatArray:
    return values[pairs.start[f]:pairs.start[f + 1]].reshape(pairs.gt.count(f), pairs.hyp.count(f))
