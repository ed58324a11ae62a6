"""Properties: the metrics do not depend on the order of the rows, nor on the track ids beyond their order.

The one place id order can matter is pinned in ``test_clear.py`` (two gt tracks claiming the hypothesis both
last matched: motmetrics lets the first one given keep it). On the random clips an arbitrary renumbering
changes nothing either.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.tracking import Tracks, track_metrics
from tests.analysis.tracking.synthetic import random_clip


def renumbered(tracks: Tracks, mapping: np.ndarray) -> Tracks:
    """Track ids replaced through ``mapping`` (indexed by the rank of the old id)."""
    old = np.unique(tracks.track_id)
    return Tracks.from_arrays(num_frames=tracks.num_frames, frame=tracks.frame,
                              track_id=mapping[np.searchsorted(old, tracks.track_id)], boxes=tracks.boxes)


def shuffled(tracks: Tracks, rng: np.random.Generator) -> Tracks:
    return tracks.select(rng.permutation(len(tracks)))


def increasing_ids(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(2**62, size=n, replace=False)) - 2**61


def assert_same(a: dict[str, float], b: dict[str, float], tolerance: float = 0.0) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert (math.isnan(a[name]) and math.isnan(b[name])) or abs(a[name] - b[name]) <= tolerance or (
            a[name] == b[name]), name


@pytest.mark.parametrize("seed", range(150))
def test_row_order_and_order_preserving_renumbering_change_nothing(seed: int) -> None:
    gt, hyp = random_clip(seed)
    rng = np.random.default_rng(seed)
    base = track_metrics(gt, hyp).to_dict()
    assert_same(base, track_metrics(shuffled(gt, rng), shuffled(hyp, rng)).to_dict())
    gt2 = renumbered(gt, increasing_ids(len(np.unique(gt.track_id)), rng))
    hyp2 = renumbered(hyp, increasing_ids(len(np.unique(hyp.track_id)), rng))
    assert_same(base, track_metrics(shuffled(gt2, rng), hyp2).to_dict())


@pytest.mark.parametrize("seed", range(150, 300))
def test_any_renumbering_changes_nothing_on_random_clips(seed: int) -> None:
    gt, hyp = random_clip(seed)
    rng = np.random.default_rng(seed)
    gt2 = renumbered(gt, rng.permutation(increasing_ids(len(np.unique(gt.track_id)), rng)))
    hyp2 = renumbered(hyp, rng.permutation(increasing_ids(len(np.unique(hyp.track_id)), rng)))
    assert_same(track_metrics(gt, hyp).to_dict(), track_metrics(gt2, hyp2).to_dict(), 1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_swapping_sides_swaps_id_precision_and_recall(seed: int) -> None:
    """Not an invariance, a symmetry: IDP and IDR trade places, IDF1 stays (the id counting is not one-sided)."""
    gt, hyp = random_clip(seed)
    ab, ba = track_metrics(gt, hyp).identity, track_metrics(hyp, gt).identity
    assert (ab.idtp, ab.idfp, ab.idfn) == (ba.idtp, ba.idfn, ba.idfp)
    assert_same({"f1": ab.idf1, "p": ab.idp, "r": ab.idr}, {"f1": ba.idf1, "p": ba.idr, "r": ba.idp})
