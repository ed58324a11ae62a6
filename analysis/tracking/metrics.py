"""One clip's tracking metrics: CLEAR-MOT and ID measures as py-motmetrics 1.4.0, HOTA as TrackEval computes them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from analysis.exceptions import AnalysisFailed, ShadowQAError
from analysis.tracking.clear import fragmentations, match_frames, track_coverage
from analysis.tracking.columns import FloatArray
from analysis.tracking.exceptions import ClipMismatch, InvalidMetricParameter
from analysis.tracking.hota import HotaMetrics, hota_metrics
from analysis.tracking.identity import IdentityMetrics, identity_metrics
from analysis.tracking.model import Tracks
from analysis.tracking.pairs import ClipPairs, clip_pairs
from analysis.tracking.ratios import quiet_divide


@dataclass(frozen=True)
class ClearMetrics:
    """CLEAR-MOT counts and scores (motmetrics' names). Scores are NaN or -inf where motmetrics' are.

    ``motp`` follows motmetrics: the mean *distance* ``1 - IoU`` over matched detections (lower is better;
    the MOTChallenge devkit reports the mean IoU instead). ``mean_match_iou`` is that mean IoU.
    ``mota = 1 - (misses + switches + false positives) / gt detections``: NaN for a clip with no gt
    detections and no hypotheses, -inf with no gt detections but some hypotheses.
    """

    num_objects: int  # gt detections
    num_predictions: int  # hypothesis detections
    num_unique_objects: int  # gt tracks
    num_matches: int  # matches that are not ID switches
    num_switches: int
    num_false_positives: int
    num_misses: int
    num_fragmentations: int
    mostly_tracked: int
    partially_tracked: int
    mostly_lost: int
    mota: float
    motp: float
    mean_match_iou: float
    precision: float
    recall: float


@dataclass(frozen=True)
class TrackMetrics:
    """Every tracking metric of one clip, for one IoU threshold (CLEAR and ID measures; HOTA sweeps its own)."""

    num_frames: int
    iou_threshold: float
    clear: ClearMetrics
    identity: IdentityMetrics
    hota: HotaMetrics

    def to_dict(self) -> dict[str, float | int]:
        """Flat ``name -> value``; NaN and -inf stay floats (a JSON writer must map them, e.g. to null)."""
        return {"num_frames": self.num_frames, "iou_threshold": self.iou_threshold,
                **asdict(self.clear), **asdict(self.identity), **asdict(self.hota)}


def track_metrics(gt: Tracks, hyp: Tracks, *, iou_threshold: float = 0.5) -> TrackMetrics:
    """Compare a clip's hypothesis tracks with its ground truth.

    A gt and a hypothesis detection in the same frame can match when their IoU >= ``iou_threshold``
    (motmetrics' ``iou_matrix(max_iou=1 - iou_threshold)``). Rows may come in any order; results depend on
    track ids only through their order (see :mod:`analysis.tracking.clear` for the one place it matters).
    """
    if gt.num_frames != hyp.num_frames:
        raise ClipMismatch("tracks", "num_frames", f"ground truth has {gt.num_frames} frames, "
                                                   f"the hypothesis {hyp.num_frames}")
    if not 0.0 <= iou_threshold <= 1.0:
        raise InvalidMetricParameter("track_metrics", "iou_threshold", f"must be in [0, 1], got {iou_threshold!r}")
    try:
        return _track_metrics(clip_pairs(gt, hyp), float(iou_threshold))
    except ShadowQAError:
        raise
    except Exception as exc:  # a defect, not bad input: say what was being done
        raise AnalysisFailed(f"tracking metrics of a {gt.num_frames}-frame clip ({len(gt)} gt, {len(hyp)} "
                             f"hypothesis detections) failed: {exc!r}") from exc


def _track_metrics(pairs: ClipPairs, iou_threshold: float) -> TrackMetrics:
    dist = pairs.motmetrics_distance(1.0 - iou_threshold)
    return TrackMetrics(pairs.num_frames, iou_threshold, clear_metrics(pairs, dist),
                        identity_metrics(pairs, dist), hota_metrics(pairs))


def clear_metrics(pairs: ClipPairs, dist: FloatArray) -> ClearMetrics:
    """CLEAR-MOT from the pair distances (``1 - IoU``, NaN where a pair cannot match)."""
    m = match_frames(pairs, dist)
    objects, predictions = len(pairs.gt), len(pairs.hyp)
    detections = int(np.count_nonzero(m.tracked))
    switches = int(np.count_nonzero(m.switched))
    misses, false_positives = objects - detections, predictions - detections
    matched = m.distance[m.tracked]
    mostly, partially, lost = track_coverage(pairs.gt, m.tracked)
    return ClearMetrics(
        num_objects=objects, num_predictions=predictions, num_unique_objects=pairs.gt.num_tracks,
        num_matches=detections - switches, num_switches=switches, num_false_positives=false_positives,
        num_misses=misses, num_fragmentations=fragmentations(pairs.gt, m.tracked),
        mostly_tracked=mostly, partially_tracked=partially, mostly_lost=lost,
        mota=1.0 - quiet_divide(misses + switches + false_positives, objects),
        motp=quiet_divide(float(matched.sum()), detections),
        mean_match_iou=quiet_divide(float((1.0 - matched).sum()), detections),
        precision=quiet_divide(detections, false_positives + detections),
        recall=quiet_divide(detections, objects),
    )
