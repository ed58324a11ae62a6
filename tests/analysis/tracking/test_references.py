"""Equality with the independent references on random clips: py-motmetrics 1.4.0 for CLEAR-MOT and the ID
measures, TrackEval 1.3.0 for HOTA. Each seed makes its own clip (see ``synthetic.py``): occlusions, id swaps
between crossing tracks, empty frames, non-contiguous and large ids, jittered or integer boxes, clutter."""

from __future__ import annotations

import math

import pytest

from analysis.tracking import track_metrics
from tests.analysis.tracking.references import motmetrics_summary, trackeval_hota
from tests.analysis.tracking.synthetic import random_clip

TOLERANCE = 1e-9


def assert_equal(ours: dict[str, float], reference: dict[str, float], seed: int) -> None:
    for name, value in reference.items():
        mine = ours[name]
        assert (math.isnan(mine) and math.isnan(value)) or mine == value or abs(mine - value) <= TOLERANCE, (
            f"seed {seed}: {name} = {mine}, reference {value}")


@pytest.mark.parametrize("seed", range(300))
def test_equals_motmetrics_and_trackeval(seed: int) -> None:
    gt, hyp = random_clip(seed)
    ours = track_metrics(gt, hyp).to_dict()
    assert_equal(ours, motmetrics_summary(gt, hyp), seed)
    assert_equal(ours, trackeval_hota(gt, hyp), seed)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("seed", range(1000, 1020))
def test_other_iou_thresholds_equal_motmetrics(seed: int, threshold: float) -> None:
    gt, hyp = random_clip(seed)
    ours = track_metrics(gt, hyp, iou_threshold=threshold).to_dict()
    assert_equal(ours, motmetrics_summary(gt, hyp, iou_threshold=threshold), seed)


def test_a_long_crowded_clip_equals_the_references() -> None:
    gt, hyp = random_clip(7, max_frames=300, max_tracks=40)
    ours = track_metrics(gt, hyp).to_dict()
    assert len(gt) > 500
    assert_equal(ours, motmetrics_summary(gt, hyp), 7)
    assert_equal(ours, trackeval_hota(gt, hyp), 7)


def test_the_random_clips_exercise_what_they_claim() -> None:
    """Guards the generator: the comparison above is only as strong as the variety of its clips."""
    seen = {"switches": 0, "fragmentations": 0, "false positives": 0, "misses": 0, "empty frames": 0,
            "large ids": 0, "negative ids": 0, "no ground truth": 0, "whole-pixel boxes": 0}
    for seed in range(300):
        gt, hyp = random_clip(seed)
        m = track_metrics(gt, hyp).clear
        both = set(gt.frame.tolist()) | set(hyp.frame.tolist())
        for name, present in [
            ("switches", m.num_switches > 0), ("fragmentations", m.num_fragmentations > 0),
            ("false positives", m.num_false_positives > 0), ("misses", m.num_misses > 0),
            ("empty frames", len(both) < gt.num_frames), ("large ids", bool((gt.track_id > 10**5).any())),
            ("negative ids", bool((gt.track_id < 0).any())), ("no ground truth", len(gt) == 0),
            ("whole-pixel boxes", len(gt) > 0 and bool((gt.boxes == gt.boxes.round()).all())),
        ]:
            seen[name] += present
    assert min(seen.values()) >= 10, seen
