"""The tracking metrics against their references, for ``benchmarks/chain.py``: ``track_metrics`` (CLEAR-MOT, ID
measures and HOTA in one call) against py-motmetrics 1.4.0 (accumulate + compute of the same CLEAR and ID
measures) and TrackEval 1.3.0's HOTA (``eval_sequence``, its IoU included), clip by clip.

The references are driven as ``tests/analysis/tracking/references.py`` drives them (not imported: benchmarks do
not import the test tree): rows by frame, then by track id; motmetrics' distance matrix from its own
``boxiou`` (its ``iou_matrix`` calls ``np.asfarray``, gone in numpy 2), one accumulator per clip. Before any
timing, every value is checked equal to 1e-9.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import motmetrics as mm  # type: ignore[import-untyped]
import numpy as np
from trackeval.datasets._base_dataset import _BaseDataset  # type: ignore[import-untyped]
from trackeval.metrics import HOTA  # type: ignore[import-untyped]

from analysis.tracking import Tracks, track_metrics
from benchmarks.harness import Timing, time_call
from services.engine.chain.data import StepOutput

TOLERANCE = 1e-9
MOTMETRICS_NAMES = (
    "num_frames", "num_objects", "num_predictions", "num_unique_objects", "num_matches", "num_switches",
    "num_false_positives", "num_misses", "num_fragmentations", "mostly_tracked", "partially_tracked",
    "mostly_lost", "mota", "motp", "precision", "recall", "idtp", "idfp", "idfn", "idp", "idr", "idf1",
)
HOTA_NAMES = {"hota": "HOTA", "deta": "DetA", "assa": "AssA", "loca": "LocA", "detre": "DetRe", "detpr": "DetPr",
              "assre": "AssRe", "asspr": "AssPr"}
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


def frames(tracks: Tracks) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per frame, (track ids, boxes) sorted by track id."""
    order = np.lexsort((tracks.track_id, tracks.frame))
    bounds = np.searchsorted(tracks.frame[order], np.arange(tracks.num_frames + 1))
    return [(tracks.track_id[order[a:b]], tracks.boxes[order[a:b]]) for a, b in itertools.pairwise(bounds)]


def motmetrics_summary(gt: Tracks, hyp: Tracks, iou_threshold: float = 0.5) -> dict[str, float]:
    acc = mm.MOTAccumulator()
    for f, ((oids, objs), (hids, hyps)) in enumerate(zip(frames(gt), frames(hyp), strict=True)):
        if len(oids) and len(hids):
            dist = 1 - mm.distances.boxiou(objs[:, None], hyps[None, :])
            dist = np.where(dist > 1 - iou_threshold, np.nan, dist)
        else:
            dist = np.empty((0, 0))
        acc.update(oids, hids, dist, frameid=f)
    summary = mm.metrics.create().compute(acc, metrics=list(MOTMETRICS_NAMES), return_dataframe=False)
    return {k: float(v) for k, v in summary.items()}


def trackeval_hota(gt: Tracks, hyp: Tracks) -> dict[str, float]:
    """TrackEval's HOTA fields, each the mean over its 19 alphas; its data dict built with its own IoU."""
    gt_ids, hyp_ids = np.unique(gt.track_id), np.unique(hyp.track_id)
    data: dict[str, Any] = {"gt_ids": [], "tracker_ids": [], "similarity_scores": []}
    for (oids, objs), (hids, hyps) in zip(frames(gt), frames(hyp), strict=True):
        data["gt_ids"].append(np.searchsorted(gt_ids, oids))
        data["tracker_ids"].append(np.searchsorted(hyp_ids, hids))
        data["similarity_scores"].append(_BaseDataset._calculate_box_ious(objs.copy(), hyps.copy(), box_format="xywh"))
    data.update(num_gt_dets=len(gt), num_tracker_dets=len(hyp), num_gt_ids=len(gt_ids),
                num_tracker_ids=len(hyp_ids), num_timesteps=gt.num_frames, seq="benchmark")
    res = HOTA().eval_sequence(data)
    return {ours: float(np.mean(res[theirs])) for ours, theirs in HOTA_NAMES.items()}


def chain_clips(ground_truth: dict[str, Any], output: StepOutput, length: int) -> list[Clip]:
    """(ground truth, the chain's tracked boxes) per clip of a ``synthetic://driving-seq`` run."""
    images = {im["id"]: im for im in ground_truth["images"]}
    gt_rows = [(images[a["image_id"]]["video_id"], images[a["image_id"]]["frame_index"], a["track_id"],
                np.asarray(a["bbox"], dtype=np.float64)) for a in ground_truth["annotations"]]
    hyp_rows = [(f.video_id, f.frame_index, int(t), box) for f, r in zip(output.frames, output.results, strict=True)
                if r.ok for t, box in zip(r.track_ids, r.boxes, strict=True) if t >= 0]
    videos = sorted(v["id"] for v in ground_truth["videos"])
    return [(_tracks([row[1:] for row in gt_rows if row[0] == v], length),
             _tracks([row[1:] for row in hyp_rows if row[0] == v], length)) for v in videos]


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
