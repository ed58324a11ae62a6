"""The tracking metrics against their references, for ``benchmarks/chain.py``: ``track_metrics`` (CLEAR-MOT, ID
measures and HOTA in one call) against py-motmetrics 1.4.0 (accumulate + compute of the same CLEAR and ID
measures) and TrackEval 1.3.0's HOTA (``eval_sequence``, its IoU included), clip by clip.

The references are driven by ``benchmarks/tracking_references.py``, the module the tracking tests use too: rows
by frame, then by track id; motmetrics' distance matrix from its own ``boxiou`` (its ``iou_matrix`` calls
``np.asfarray``, gone in numpy 2), one accumulator per clip. Before any
timing, every value is checked equal to 1e-9.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.tracking import Tracks, track_metrics
from benchmarks.harness import Timing, time_call
from benchmarks.tracking_references import motmetrics_summary, trackeval_hota
from services.engine.chain.clip_tracks import ClipLayout, step_tracks, truth_tracks
from services.engine.chain.data import StepOutput

TOLERANCE = 1e-9
Clip = tuple[Tracks, Tracks]


@dataclass(frozen=True)
class MetricTimings:
    """Seconds to evaluate every clip of a set once, per implementation (medians of repeats)."""

    clips: int
    frames: int
    gt_boxes: int
    hyp_boxes: int
    ours: Timing
    motmetrics: Timing
    trackeval: Timing

    def ms_per_clip(self, t: Timing) -> float:
        return 1000 * t.median / self.clips


def time_metrics(clips: Sequence[Clip], repeat: int) -> MetricTimings:
    """Check that ours equals both references on every clip, then time the three on all of them."""
    for i, (gt, hyp) in enumerate(clips):
        check_equal(track_metrics(gt, hyp).to_dict(), {**motmetrics_summary(gt, hyp), **trackeval_hota(gt, hyp)}, i)

    return MetricTimings(
        len(clips), sum(gt.num_frames for gt, _ in clips), sum(len(gt) for gt, _ in clips),
        sum(len(hyp) for _, hyp in clips), time_call(_each(track_metrics, clips), repeat),
        time_call(_each(motmetrics_summary, clips), repeat), time_call(_each(trackeval_hota, clips), repeat))


def _each(fn: Callable[[Tracks, Tracks], object], clips: Sequence[Clip]) -> Callable[[], None]:
    def run() -> None:
        for gt, hyp in clips:
            fn(gt, hyp)

    return run


def check_equal(ours: dict[str, float], reference: dict[str, float], clip: int) -> None:
    """Raise AssertionError naming the first value that differs by more than :data:`TOLERANCE`."""
    for name, value in reference.items():
        mine = ours[name]
        same = (math.isnan(mine) and math.isnan(value)) or mine == value or abs(mine - value) <= TOLERANCE
        if not same:
            raise AssertionError(f"clip {clip}: {name} = {mine!r}, reference {value!r}")


def chain_clips(ground_truth: dict[str, Any], output: StepOutput) -> list[Clip]:
    """(ground truth, the chain's tracked boxes) per clip of a ``synthetic://driving-seq`` run, as
    ``engine eval`` sees them (boxes the tracker left without an id are not part of its tracks)."""
    layout = ClipLayout.of(ground_truth)
    truth = truth_tracks(ground_truth, layout, "benchmark")
    tracked = step_tracks("track", output, layout)
    return [(truth[v], tracked[v].tracks) for v in layout.lengths]


def crowded_clip(seed: int = 5, frames_: int = 300, slots: int = 20) -> Clip:
    """A long crowded clip: ``slots`` objects on every frame (each slot's object leaves after 40-150 frames
    and a new one enters), occlusion gaps; the hypothesis misses 10 %, jitters, switches ids and adds clutter."""
    rng = np.random.default_rng(seed)
    gt_rows: list[tuple[int, int, np.ndarray]] = []
    next_id = 1
    for _ in range(slots):
        f = 0
        while f < frames_:
            life = int(rng.integers(40, 151))
            box = np.array([rng.uniform(0, 1200), rng.uniform(0, 600), rng.uniform(20, 120), rng.uniform(20, 160)])
            speed = np.r_[rng.normal(0, 4, 2), 0, 0]
            gt_rows += [(k, next_id, box + speed * (k - f)) for k in range(f, min(f + life, frames_))
                        if rng.random() >= 0.05]
            f, next_id = f + life, next_id + 1
    label = {t: t for t in range(1, next_id)}
    hyp_rows = []
    for k, t, box in gt_rows:
        if rng.random() < 0.01:  # id switch: the track goes on under a new hypothesis id
            label[t], next_id = next_id, next_id + 1
        if rng.random() >= 0.1:
            hyp_rows.append((k, label[t], box + rng.normal(0, 3, 4) * [1, 1, 0.5, 0.5]))
    for k in range(frames_):  # clutter: two false positives a frame
        hyp_rows += [(k, -(2 * k + j + 1), np.array([rng.uniform(0, 1200), rng.uniform(0, 600), 40, 60]))
                     for j in range(2)]
    return _tracks(gt_rows, frames_), _tracks(hyp_rows, frames_)


def _tracks(rows: Sequence[tuple[int, int, np.ndarray]], num_frames: int) -> Tracks:
    boxes = np.array([b for _, _, b in rows], dtype=np.float64).reshape(-1, 4)
    boxes[:, 2:] = np.abs(boxes[:, 2:])
    return Tracks.from_arrays(num_frames=num_frames, frame=[f for f, _, _ in rows], track_id=[t for _, t, _ in rows],
                              boxes=boxes)
