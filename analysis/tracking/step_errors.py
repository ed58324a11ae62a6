"""One chain step's errors against the truth, row by row, and the links that say an error of one step is the same
error as one of the step before it.

A step with track ids is matched to the truth as CLEAR-MOT matches (:func:`~analysis.tracking.clear.match_frames`,
so its misses, false positives and ID switches are exactly :func:`~analysis.tracking.track_metrics`' counts). A
step without ids is matched frame by frame alone: the same matching with every box its own track, so nothing is
kept from the previous frame and it is motmetrics' minimum-cost assignment (most matches, then least total
``1 - IoU``) of each frame, with no ID switches.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from analysis.tracking.clear import fragmentations, match_frames
from analysis.tracking.columns import BoolArray, FloatArray, IntArray
from analysis.tracking.identity import identity_metrics
from analysis.tracking.model import Tracks
from analysis.tracking.pairs import Side, clip_pairs
from analysis.tracking.ratios import quiet_divide


@dataclass(frozen=True)
class StepFigures:
    """A step's agreement with the truth as counts, so clips add up; the scores are derived from them.

    ``matched`` counts truth detections matched (ID switches included); without ids, ``switches``,
    ``fragmentations`` and the ID counts are 0 and MOTA and IDF1 are undefined (NaN).
    """

    has_ids: bool
    frames: int
    objects: int
    predictions: int
    matched: int
    switches: int = 0
    fragmentations: int = 0
    idtp: int = 0
    idfp: int = 0
    idfn: int = 0

    @property
    def misses(self) -> int:
        return self.objects - self.matched

    @property
    def false_positives(self) -> int:
        return self.predictions - self.matched

    @property
    def precision(self) -> float:
        return _ratio(self.matched, self.predictions)

    @property
    def recall(self) -> float:
        return _ratio(self.matched, self.objects)

    @property
    def mota(self) -> float:
        """``1 - (misses + false positives + switches) / truth detections``, as CLEAR's; NaN without ids."""
        if not self.has_ids:
            return float("nan")
        return 1.0 - _ratio(self.misses + self.false_positives + self.switches, self.objects)

    @property
    def idf1(self) -> float:
        return _ratio(2 * self.idtp, self.objects + self.predictions) if self.has_ids else float("nan")

    def __add__(self, other: StepFigures) -> StepFigures:
        if other.has_ids != self.has_ids:
            raise ValueError("cannot add the figures of a step with track ids to those of one without")
        return StepFigures(self.has_ids, *(a + b for a, b in zip(self._counts(), other._counts(), strict=True)))

    def _counts(self) -> tuple[int, ...]:
        return (self.frames, self.objects, self.predictions, self.matched, self.switches, self.fragmentations,
                self.idtp, self.idfp, self.idfn)

    def to_dict(self) -> dict[str, int | float | bool | None]:
        """Counts and scores; an undefined or infinite score (no truth, no predictions, no ids) is None."""
        scores = {"mota": self.mota, "idf1": self.idf1, "precision": self.precision, "recall": self.recall}
        return {"has_ids": self.has_ids, "frames": self.frames, "objects": self.objects,
                "predictions": self.predictions, "matched": self.matched, "misses": self.misses,
                "false_positives": self.false_positives, "switches": self.switches,
                "fragmentations": self.fragmentations, "idtp": self.idtp, "idfp": self.idfp, "idfn": self.idfn,
                **{k: v if np.isfinite(v) else None for k, v in scores.items()}}


@dataclass(frozen=True)
class StepErrors:
    """Which truth rows a step misses or switches on (canonical truth order: by frame, then track id), and its
    false-positive boxes (by frame; ``fp_frame`` their frames)."""

    missed: BoolArray
    switched: BoolArray
    fp_frame: IntArray
    fp_boxes: FloatArray
    figures: StepFigures


def step_errors(truth: Tracks, hyp: Tracks, *, has_ids: bool, iou_threshold: float) -> StepErrors:
    """Match one step's output to the truth (see the module docstring) and keep its errors row by row."""
    if not has_ids:
        hyp = _singletons(hyp.num_frames, hyp.frame, hyp.boxes)
    pairs = clip_pairs(truth, hyp)
    dist = pairs.motmetrics_distance(1.0 - iou_threshold)
    m = match_frames(pairs, dist)
    matched_hyp = np.zeros(len(pairs.hyp), bool)
    matched_hyp[m.hyp_row[m.tracked]] = True
    switched = m.switched if has_ids else np.zeros(len(pairs.gt), bool)
    figures = StepFigures(has_ids, truth.num_frames, len(pairs.gt), len(pairs.hyp), int(np.count_nonzero(m.tracked)))
    if has_ids:
        ids = identity_metrics(pairs, dist)
        figures = replace(figures, switches=int(np.count_nonzero(switched)),
                          fragmentations=fragmentations(pairs.gt, m.tracked), idtp=ids.idtp, idfp=ids.idfp,
                          idfn=ids.idfn)
    fp = ~matched_hyp
    return StepErrors(~m.tracked, switched, frames_of(pairs.hyp)[fp], pairs.hyp.boxes[fp], figures)


def link_false_positives(before: StepErrors, after: StepErrors, num_frames: int, iou_threshold: float) -> IntArray:
    """Per false positive of ``after``, the false positive of ``before`` it continues (-1: none): on the same
    frame, IoU >= ``iou_threshold``, one to one, each frame's links the most possible, then the closest."""
    old = _singletons(num_frames, before.fp_frame, before.fp_boxes)
    new = _singletons(num_frames, after.fp_frame, after.fp_boxes)
    pairs = clip_pairs(new, old)  # both sides keep their row order: frame-sorted rows with ids 0..n-1
    m = match_frames(pairs, pairs.motmetrics_distance(1.0 - iou_threshold))
    return m.hyp_row


def frames_of(side: Side) -> IntArray:
    """The frame of each canonical row of ``side``."""
    return np.repeat(np.arange(len(side.start) - 1), np.diff(side.start)).astype(np.int64)


def _singletons(num_frames: int, frame: IntArray, boxes: FloatArray) -> Tracks:
    """Boxes as tracks of one box each, ids in row order (so each frame is matched on its own)."""
    return Tracks.from_arrays(num_frames=num_frames, frame=frame, track_id=np.arange(len(frame)), boxes=boxes)


def _ratio(a: float, b: float) -> float:
    return quiet_divide(a, b)
