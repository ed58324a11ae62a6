"""The independent references, driven frame by frame: py-motmetrics 1.4.0 and TrackEval 1.3.0.

Used by the tracking tests (tests/analysis/tracking) and by ``benchmarks/chain.py``, which checks equality
before it times them.

Workarounds, all in this file (the installed packages are not patched): motmetrics' ``iou_matrix`` calls
``np.asfarray`` (gone in numpy 2), so the distance matrix is built here from its own ``boxiou`` exactly as
``iou_matrix`` would; one accumulator per sequence (merging accumulators needs pandas' removed
``DataFrame.append``). TrackEval's metric classes are called on the ``data`` dict their ``eval_sequence``
expects, with its own ``_calculate_box_ious``, not through its dataset classes. Rows enter both in the
canonical order ``track_metrics`` uses: by frame, then by track id.
"""

from __future__ import annotations

import itertools
from typing import Any

import motmetrics as mm  # type: ignore[import-untyped]
import numpy as np
from trackeval.datasets._base_dataset import _BaseDataset  # type: ignore[import-untyped]
from trackeval.metrics import HOTA  # type: ignore[import-untyped]

from analysis.tracking import Tracks

MOTMETRICS_NAMES = (
    "num_frames", "num_objects", "num_predictions", "num_unique_objects", "num_matches", "num_switches",
    "num_false_positives", "num_misses", "num_fragmentations", "mostly_tracked", "partially_tracked",
    "mostly_lost", "mota", "motp", "precision", "recall", "idtp", "idfp", "idfn", "idp", "idr", "idf1",
)
HOTA_NAMES = {"hota": "HOTA", "deta": "DetA", "assa": "AssA", "loca": "LocA", "detre": "DetRe", "detpr": "DetPr",
              "assre": "AssRe", "asspr": "AssPr"}


def frames(tracks: Tracks) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per frame, (track ids, boxes) sorted by track id."""
    order = np.lexsort((tracks.track_id, tracks.frame))
    bounds = np.searchsorted(tracks.frame[order], np.arange(tracks.num_frames + 1))
    return [(tracks.track_id[order[a:b]], tracks.boxes[order[a:b]]) for a, b in itertools.pairwise(bounds)]


def motmetrics_accumulator(gt: Tracks, hyp: Tracks, iou_threshold: float = 0.5) -> Any:
    acc = mm.MOTAccumulator()
    for f, ((oids, objs), (hids, hyps)) in enumerate(zip(frames(gt), frames(hyp), strict=True)):
        if len(oids) and len(hids):
            dist = 1 - mm.distances.boxiou(objs[:, None], hyps[None, :])
            dist = np.where(dist > 1 - iou_threshold, np.nan, dist)
        else:
            dist = np.empty((0, 0))
        acc.update(oids, hids, dist, frameid=f)
    return acc


def motmetrics_summary(gt: Tracks, hyp: Tracks, iou_threshold: float = 0.5) -> dict[str, float]:
    acc = motmetrics_accumulator(gt, hyp, iou_threshold)
    summary = mm.metrics.create().compute(acc, metrics=list(MOTMETRICS_NAMES), return_dataframe=False)
    return {k: float(v) for k, v in summary.items()}


def trackeval_data(gt: Tracks, hyp: Tracks) -> dict[str, Any]:
    gt_ids, hyp_ids = np.unique(gt.track_id), np.unique(hyp.track_id)
    data: dict[str, Any] = {"gt_ids": [], "tracker_ids": [], "similarity_scores": []}
    for (oids, objs), (hids, hyps) in zip(frames(gt), frames(hyp), strict=True):
        data["gt_ids"].append(np.searchsorted(gt_ids, oids))
        data["tracker_ids"].append(np.searchsorted(hyp_ids, hids))
        data["similarity_scores"].append(_BaseDataset._calculate_box_ious(objs.copy(), hyps.copy(), box_format="xywh"))
    data.update(num_gt_dets=len(gt), num_tracker_dets=len(hyp), num_gt_ids=len(gt_ids),
                num_tracker_ids=len(hyp_ids), num_timesteps=gt.num_frames, seq="clip")
    return data


def trackeval_hota(gt: Tracks, hyp: Tracks) -> dict[str, float]:
    """TrackEval's HOTA fields, each the mean over its 19 alphas (what its summary reports)."""
    res = HOTA().eval_sequence(trackeval_data(gt, hyp))
    return {ours: float(np.mean(res[theirs])) for ours, theirs in HOTA_NAMES.items()}
