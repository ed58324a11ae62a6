"""COCO average precision (mAP) over IoU thresholds, equal to pycocotools' ``COCOeval``.

Matching per threshold is the core's pycocotools-exact ``coco`` matcher; the
accumulation over images is :mod:`analysis.detection.accumulate`. Together they
give pycocotools' ``stats`` (AP@[.5:.95], AP@.5, AP@.75, AR) and per-class AP
for one area range and ``maxDets``, so the engine can report mAP from its own
core rather than by running pycocotools.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from analysis.annotations.model import Annotations, BoolArray, FloatArray, IntArray
from analysis.detection.accumulate import accumulate, detection_ranking, mean_defined
from analysis.detection.contract import (
    check_same_frames,
    checked_area_range,
    checked_max_dets,
    checked_thresholds,
    reported_as,
)
from analysis.detection.remembered_iou import RememberedIoU
from analysis.exceptions import InvalidInput
from analysis.geometry import Geometry, get_geometry
from analysis.matching.coco import CocoRules, coco_match
from analysis.matching.pairs import group_keys

# pycocotools' Params.iouThrs, built by the same expression so the floats are identical.
COCO_IOU_THRESHOLDS: tuple[float, ...] = tuple(
    np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True).tolist()
)
ALL_AREAS: tuple[float, float] = (0.0, 1e5**2)
_SAME_THRESHOLD = 1e-12


@dataclass(frozen=True)
class ClassAP:
    """One class's scores; NaN when the class has no non-ignored manual object."""

    ap: float  # mean interpolated precision over all IoU thresholds and recall points
    ap50: float  # at IoU 0.5 (NaN if 0.5 is not among the thresholds)
    ap75: float
    recall50: float  # share of manual objects found at IoU 0.5
    ar: float  # recall averaged over the IoU thresholds
    n_manual: int  # non-ignored manual objects (not crowd, area inside the range)


@dataclass(frozen=True, eq=False)
class APResult:
    """COCO detection scores of the automation side against the manual side.

    ``ap``, ``ap50``, ``ap75`` and ``ar`` are pycocotools' ``stats[0]``,
    ``stats[1]``, ``stats[2]`` and ``stats[8]`` for the defaults (NaN where
    pycocotools prints -1). ``precision`` is ``(T, 101, K)`` and ``recall``
    ``(T, K)`` with classes in the manual categories' order.
    """

    ap: float
    ap50: float
    ap75: float
    ar: float
    per_class: Mapping[str, ClassAP]
    iou_thresholds: tuple[float, ...]
    max_dets: int
    area_range: tuple[float, float]
    precision: FloatArray
    recall: FloatArray


@dataclass(frozen=True, eq=False)
class Flags:
    """The matcher's verdict on every detection at every IoU threshold, for one area range."""

    tp: BoolArray  # (T, N) detection is a true positive at threshold t
    fp: BoolArray  # (T, N) detection is a false positive at threshold t
    n_manual: IntArray  # (K,) non-ignored manual objects per class


def average_precision(
    automation: Annotations, manual: Annotations, *,
    iou_thresholds: Iterable[float] = COCO_IOU_THRESHOLDS, max_dets: int = 100,
    area_range: tuple[float, float] = ALL_AREAS, geometry: str = "box",
) -> APResult:
    """COCO AP and AR of scored automation objects, as pycocotools' ``COCOeval`` computes them.

    ``max_dets`` caps detections per image and class; ``area_range`` (px²,
    inclusive) selects the objects evaluated, as pycocotools' ``areaRng``;
    ``geometry`` is ``box`` (iouType ``bbox``) or ``mask`` (``segm``).
    """
    thresholds = checked_thresholds(iou_thresholds)
    area_range = checked_area_range(area_range)
    check_same_frames(automation, manual)
    overlap = RememberedIoU(get_geometry(geometry))
    with reported_as(f"average precision of {automation.source or 'automation'} against {manual.source or 'manual'}"):
        flags = match_flags(automation, manual, thresholds, checked_max_dets(max_dets), area_range, overlap)
        return ap_from_flags(flags, automation, manual, thresholds, max_dets, area_range)


def match_flags(
    automation: Annotations, manual: Annotations, thresholds: tuple[float, ...], max_dets: int,
    area_range: tuple[float, float], geometry: Geometry,
) -> Flags:
    """True and false positives per threshold from the pycocotools-exact matcher (class-aware)."""
    dt, gt = automation.objects, manual.objects
    if not dt.has_scores:
        raise InvalidInput(automation.source, "", "coco matching needs a score on every detection")
    tp = np.zeros((len(thresholds), len(dt)), dtype=bool)
    fp = np.zeros((len(thresholds), len(dt)), dtype=bool)
    if len(gt) == 0:  # every class is undefined; the coco matcher fails on an empty manual side
        return Flags(tp, fp, np.zeros(len(manual.categories), dtype=np.int64))
    k = len(manual.categories)
    dt_key, gt_key = group_keys(dt.frame, dt.category, k, True), group_keys(gt.frame, gt.category, k, True)
    dt_small, gt_small = np.zeros(len(dt), dtype=bool), np.zeros(len(gt), dtype=bool)
    gt_ignored = gt_small
    for t, threshold in enumerate(thresholds):
        matches = coco_match(
            dt, gt, dt_key=dt_key, gt_key=gt_key, n_keys=len(manual.images) * k, geometry=geometry,
            rules=CocoRules(threshold, max_dets, area_range), dt_small=dt_small, gt_small=gt_small,
        )
        tp[t], fp[t], gt_ignored = matches.dt_matched, matches.false_positive, matches.gt_ignored
    n_manual = np.bincount(gt.category[~gt_ignored], minlength=k)
    return Flags(tp, fp, n_manual.astype(np.int64))


def ap_from_flags(
    flags: Flags, automation: Annotations, manual: Annotations, thresholds: tuple[float, ...], max_dets: int,
    area_range: tuple[float, float], *, ranking: IntArray | None = None,
) -> APResult:
    """pycocotools' ``accumulate()`` and ``summarize()`` over the matcher's flags (``ranking``: the detections'
    :func:`detection_ranking`, when the caller has it already)."""
    dt = automation.objects
    if ranking is None:
        ranking = detection_ranking(dt.score, manual.images.ids[dt.frame], dt.category)
    precision, recall = accumulate(flags.tp, flags.fp, ranking, dt.category, flags.n_manual)
    return _summarize(precision, recall, flags.n_manual, manual, thresholds, max_dets, area_range)


def _summarize(
    precision: FloatArray, recall: FloatArray, n_manual: IntArray, manual: Annotations,
    thresholds: tuple[float, ...], max_dets: int, area_range: tuple[float, float],
) -> APResult:
    """pycocotools' ``summarize()``: means over defined entries, classes in ascending id order."""
    by_id = np.argsort(manual.categories.ids, kind="stable")
    precision.setflags(write=False)
    recall.setflags(write=False)
    at50, at75 = _threshold_index(thresholds, 0.5), _threshold_index(thresholds, 0.75)
    per_class = {
        manual.categories.name_of(k): ClassAP(
            ap=mean_defined(precision[:, :, k]), ap50=mean_defined(precision[at50, :, k]),
            ap75=mean_defined(precision[at75, :, k]), recall50=mean_defined(recall[at50, k]),
            ar=mean_defined(recall[:, k]), n_manual=int(n_manual[k]),
        )
        for k in range(len(manual.categories))
    }
    return APResult(
        ap=mean_defined(precision[:, :, by_id]), ap50=mean_defined(precision[at50][:, :, by_id]),
        ap75=mean_defined(precision[at75][:, :, by_id]), ar=mean_defined(recall[:, by_id]),
        per_class=per_class, iou_thresholds=thresholds, max_dets=max_dets, area_range=area_range,
        precision=precision, recall=recall,
    )


def _threshold_index(thresholds: tuple[float, ...], value: float) -> IntArray:
    """Where ``value`` is among the thresholds (pycocotools compares exactly; we allow rounding)."""
    return np.flatnonzero(np.abs(np.asarray(thresholds) - value) < _SAME_THRESHOLD).astype(np.int64)
