"""nuScenes-style detection scores of cuboids: AP by centre distance and true-positive errors.

Per class and distance threshold, detections are matched by nuScenes' greedy
centre-distance rule (:mod:`analysis.matching.centre`) and accumulated into
curves (:mod:`analysis.detection3d.curves`); a class's AP is the mean of
``calc_ap`` over the thresholds (0.5, 1, 2, 4 m), its translation, scale and
orientation errors ``calc_tp`` at 2 m, as ``nuscenes.eval.detection`` computes
them. Departures from the devkit's ``DetectionEval``: no velocity or attribute
errors (cuboids carry neither); no range filtering (the caller chooses the
objects); crowd and ignore-flagged manual objects are left out; a class without
manual objects scores NaN and is left out of the means (the devkit counts it 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from analysis.annotations.model import Annotations, FloatArray, IntArray
from analysis.detection.contract import check_same_frames, reported_as
from analysis.detection3d.curves import ERRORS, MetricCurves, calc_ap, calc_tp, curves
from analysis.detection3d.errors import FULL_TURN, orientation_error, scale_error, translation_error
from analysis.exceptions import InvalidInput
from analysis.geometry.cuboids import CuboidGeometry, centre_distance
from analysis.matching.centre import greedy_nearest
from analysis.matching.pairs import group_keys, near_pairs

NUSCENES_DISTANCES: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)  # metres, DetectionConfig.dist_ths
TP_DISTANCE = 2.0  # dist_th_tp: the threshold the true-positive errors are measured at
MIN_RECALL = 0.1
MIN_PRECISION = 0.1
HALF_TURN_CLASSES = frozenset({"barrier"})  # orientation known up to 180°
NO_ORIENTATION_CLASSES = frozenset({"traffic_cone"})  # orientation error not defined


@dataclass(frozen=True)
class ClassScores:
    """One class's scores; NaN when the class has no manual object."""

    ap: float  # mean AP over the distance thresholds
    ap_at: Mapping[float, float]  # AP per threshold
    trans_err: float  # metres
    scale_err: float  # 1 - IoU of the aligned, centred cuboids
    orient_err: float  # radians; NaN for classes without orientation
    n_manual: int


@dataclass(frozen=True, eq=False)
class Detection3DResult:
    """Per-class scores (manual categories' names) and their means over classes with manual objects."""

    classes: Mapping[str, ClassScores]
    mean_ap: float
    mean_errors: Mapping[str, float]  # ERRORS' names -> mean over classes (NaN classes skipped)


def nuscenes_detection(
    automation: Annotations, manual: Annotations, *, distances: Iterable[float] = NUSCENES_DISTANCES,
    tp_distance: float = TP_DISTANCE, half_turn: Iterable[str] = HALF_TURN_CLASSES,
    no_orientation: Iterable[str] = NO_ORIENTATION_CLASSES,
) -> Detection3DResult:
    """Score ``automation``'s cuboids (scored) against ``manual``'s, class by class."""
    thresholds = _checked(distances, tp_distance)
    with reported_as("computing nuScenes detection scores"):
        check_same_frames(automation, manual)
        if not automation.objects.has_scores:
            raise InvalidInput(automation.source, "", "nuScenes AP needs a score on every detection")
        per_class = _per_class(automation, manual, thresholds, tp_distance, frozenset(half_turn),
                               frozenset(no_orientation))
        scored = [c for c in per_class.values() if c.n_manual > 0]
        mean_ap = float(np.mean([c.ap for c in scored])) if scored else float("nan")
        means = {name: _nanmean([getattr(c, name) for c in scored]) for name in ERRORS}
        return Detection3DResult(per_class, mean_ap, means)


def class_curves(
    automation: Annotations, manual: Annotations, distance: float, *, half_turn: Iterable[str] = HALF_TURN_CLASSES,
) -> dict[str, MetricCurves]:
    """Each manual category's curves at one distance threshold (the devkit's ``accumulate``)."""
    return _Pairs(automation, manual, distance).curves(distance, frozenset(half_turn))


def _per_class(
    automation: Annotations, manual: Annotations, thresholds: tuple[float, ...], tp_distance: float,
    half_turn: frozenset[str], no_orientation: frozenset[str],
) -> dict[str, ClassScores]:
    pairs = _Pairs(automation, manual, max(*thresholds, tp_distance))
    at = {t: pairs.curves(t, half_turn) for t in sorted({*thresholds, tp_distance})}
    out = {}
    for k, name in enumerate(manual.categories.names):
        n = pairs.n_manual[k]
        if n == 0:
            out[name] = ClassScores(np.nan, dict.fromkeys(thresholds, np.nan), np.nan, np.nan, np.nan, 0)
            continue
        ap_at = {t: calc_ap(at[t][name], MIN_RECALL, MIN_PRECISION) for t in thresholds}
        tp = {e: calc_tp(at[tp_distance][name], MIN_RECALL, e) for e in ERRORS}
        orient = np.nan if name in no_orientation else tp["orient_err"]
        out[name] = ClassScores(float(np.mean(list(ap_at.values()))), ap_at, tp["trans_err"], tp["scale_err"],
                                orient, n)
    return out


class _Pairs:
    """Same-frame, same-class pairs closer than ``reach`` (and some farther) with their centre distances,
    computed once for all thresholds up to ``reach``."""

    def __init__(self, automation: Annotations, manual: Annotations, reach: float) -> None:
        dt, gt = automation.objects, manual.objects
        kind = CuboidGeometry.kind
        if kind not in gt.geometry or (len(dt) and kind not in dt.geometry):
            raise InvalidInput(manual.source, "geometry", "nuScenes AP needs cuboid3d objects on both sides")
        k = len(manual.categories)
        self.names = manual.categories.names
        self.dt_box: FloatArray = dt.geometry[kind]["box"] if len(dt) else np.zeros((0, 7))
        self.gt_box: FloatArray = gt.geometry[kind]["box"]
        self.score, self.dt_cat = dt.score, dt.category
        self.dt_key = group_keys(dt.frame, dt.category, k, True)
        regular = ~(gt.crowd | gt.ignore)
        gt_key: IntArray = np.where(regular, group_keys(gt.frame, gt.category, k, True), -1)
        self.n_manual = np.bincount(gt.category[regular], minlength=k)
        self.dp, self.gp = near_pairs(self.dt_key, gt_key, len(manual.images) * k, self.dt_box[:, :2],
                                      self.gt_box[:, :2], reach)
        self.distance = centre_distance(self.dt_box[self.dp], self.gt_box[self.gp])

    def curves(self, threshold: float, half_turn: frozenset[str]) -> dict[str, MetricCurves]:
        match_of = greedy_nearest(self.dp, self.gp, self.distance, threshold, self.score, self.dt_key)
        matched = match_of >= 0
        d, g = self.dt_box[matched], self.gt_box[match_of[matched]]
        period = np.where(np.isin(self.dt_cat[matched], self._indices(half_turn)), np.pi, FULL_TURN)
        errors = {name: np.zeros(len(self.score)) for name in ERRORS}
        errors["trans_err"][matched] = translation_error(d, g)
        errors["scale_err"][matched] = scale_error(d, g)
        errors["orient_err"][matched] = orientation_error(d, g, period)
        out = {}
        for k, name in enumerate(self.names):
            mine = self.dt_cat == k
            out[name] = curves(self.score[mine], matched[mine], {e: v[mine] for e, v in errors.items()},
                               int(self.n_manual[k]))
        return out

    def _indices(self, names: frozenset[str]) -> IntArray:
        return np.array([k for k, n in enumerate(self.names) if n in names], dtype=np.int64)


def _checked(distances: Iterable[float], tp_distance: float) -> tuple[float, ...]:
    thresholds = tuple(float(d) for d in distances)
    if not thresholds:
        raise InvalidInput("options", "distances", "at least one distance threshold is needed")
    for i, t in enumerate((*thresholds, tp_distance)):
        if not t > 0:
            where = f"distances[{i}]" if i < len(thresholds) else "tp_distance"
            raise InvalidInput("options", where, f"must be > 0 metres, got {t}")
    return thresholds


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")
