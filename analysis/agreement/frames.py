"""Agreement per frame, computed for all frames at once with bincounts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.agreement.confusion import Confusion
from analysis.agreement.labels import LabelAgreement, PairLabels
from analysis.agreement.spec import QualitySpec
from analysis.annotations.model import Annotations, BoolArray, FloatArray, IntArray
from analysis.matching import Matches


@dataclass(frozen=True, eq=False)
class ClassCounts:
    """Object counts per frame and class, shape (frames, classes)."""

    tp: IntArray
    fp: IntArray
    fn: IntArray
    iou_sum: FloatArray
    accepted: BoolArray  # would this class's objects in the frame pass the spec?

    @property
    def present(self) -> BoolArray:
        """Frames where the class occurs on either side (ignored objects aside)."""
        return (self.tp + self.fp + self.fn) > 0


@dataclass(frozen=True, eq=False)
class FrameAgreement:
    """Per-frame agreement between machine and manual annotation, one entry per frame."""

    tp: IntArray
    fp: IntArray
    fn: IntArray
    iou_sum: FloatArray
    poor_iou: IntArray  # matches poorly localised: below their class's min_iou, or beyond its max_yaw_error
    class_confused: IntArray  # machine objects on a manual object of another class
    attributes: LabelAgreement
    tags: LabelAgreement
    accepted: BoolArray
    per_class: ClassCounts

    def __len__(self) -> int:
        return len(self.tp)

    @property
    def precision(self) -> FloatArray:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> FloatArray:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> FloatArray:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def mean_iou(self) -> FloatArray:
        return _ratio(self.iou_sum, self.tp)

    @property
    def class_agreement(self) -> FloatArray:
        """Share of geometric matches whose classes agree."""
        return _ratio(self.tp, self.tp + self.class_confused)


def _ratio(num: np.ndarray, den: np.ndarray) -> FloatArray:
    out = np.full(len(num), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def frame_agreement(
    automation: Annotations, manual: Annotations, matches: Matches, *,
    spec: QualitySpec, poor: BoolArray, confusion: Confusion,
    attributes: PairLabels, tags: LabelAgreement,
) -> FrameAgreement:
    """Counts per frame and per (frame, class), and acceptance of each under ``spec``; ``poor``
    marks the matches that fail their class's localisation (``ClassRules.poorly_localised``)."""
    n, k = len(manual.images), len(manual.categories)
    dt, gt = automation.objects, manual.objects
    m_frame, m_cat = gt.frame[matches.gt], gt.category[matches.gt]
    fp, fn = matches.false_positive, matches.false_negative
    cells = _Cells(n, k)
    tp_c = cells.count(m_frame, m_cat)
    fp_c = cells.count(dt.frame[fp], dt.category[fp])
    fn_c = cells.count(gt.frame[fn], gt.category[fn])
    poor_c = cells.count(m_frame, m_cat, poor.astype(np.float64))
    attr_c = cells.count(m_frame, m_cat, attributes.required_differ.astype(np.float64))
    frame_tags = tags.required_differ
    per_class = ClassCounts(
        tp=tp_c, fp=fp_c, fn=fn_c, iou_sum=cells.count(m_frame, m_cat, matches.iou, integer=False),
        accepted=_accept(spec, fp_c, fn_c, poor_c, attr_c),
    )
    accepted = _accept(spec, fp_c.sum(1), fn_c.sum(1), poor_c.sum(1), attr_c.sum(1)) & (frame_tags == 0)
    return FrameAgreement(
        tp=tp_c.sum(1), fp=fp_c.sum(1), fn=fn_c.sum(1), iou_sum=per_class.iou_sum.sum(1),
        poor_iou=poor_c.sum(1), class_confused=np.bincount(dt.frame[confusion.confused_dt], minlength=n),
        attributes=attributes.per_frame(m_frame, n), tags=tags, accepted=accepted, per_class=per_class,
    )


def _accept(spec: QualitySpec, fp: IntArray, fn: IntArray, poor: IntArray, attr: IntArray) -> BoolArray:
    ok = (fn <= spec.max_missed) & (fp <= spec.max_extra) & (poor == 0) & (attr == 0)
    return np.asarray(ok, dtype=bool)


@dataclass(frozen=True)
class _Cells:
    """Counting into a (frames, classes) table."""

    n: int
    k: int

    def count(
        self, frame: IntArray, category: IntArray, weights: FloatArray | None = None, *, integer: bool = True
    ) -> np.ndarray:
        flat = np.bincount(frame * self.k + category, weights=weights, minlength=self.n * self.k)
        table = flat.reshape(self.n, self.k)
        return table.astype(np.int64) if integer else table
