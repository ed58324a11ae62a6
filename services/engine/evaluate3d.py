"""Scoring 3D detections (cuboids) against OpenLABEL ground truth: nuScenes-style AP and frame acceptance.

nuScenes-style mean AP over the classes at centre distances 0.5, 1, 2 and 4 m with the mean
translation, scale and orientation errors (:mod:`analysis.detection3d`), and frame acceptance under
a quality spec as ``shadowqa compare --geometry cuboid3d`` judges it. The machine's categories are
matched to the ground truth's by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis.agreement import QualitySpec
from analysis.annotations import Annotations
from analysis.annotations.columns import FrameColumns, annotations_of
from analysis.annotations.model import BoolArray
from analysis.compare import Comparator, CompareOptions, Comparison
from analysis.detection3d import nuscenes_detection
from analysis.exceptions import InvalidInput
from analysis.matching import MatchOptions
from services.engine.results import AutomationResult
from services.io.openlabel import read_openlabel, to_annotations

KIND = "cuboid3d"
TP_ERRORS = {"mate": "trans_err", "mase": "scale_err", "maoe": "orient_err"}  # nuScenes' mATE, mASE, mAOE


def cuboid_truth(doc: dict[str, Any], source: str, frame_ids: Sequence[int] | None = None) -> Annotations:
    """The cuboids of an OpenLABEL ground truth, on ``frame_ids`` only (default: all its frames)."""
    label = read_openlabel(doc, source)
    full = to_annotations(label, source, kind=KIND)
    if frame_ids is None:
        return full
    missing = [f for f in frame_ids if f not in full.images.index]
    if missing:
        raise InvalidInput(source, "frames", f"frame {missing[0]} has no ground truth")
    keep = np.array([full.images.index[f] for f in frame_ids], dtype=np.int64)
    im = full.images
    images = type(im)(ids=im.ids[keep], width=im.width[keep], height=im.height[keep],
                      file_names=tuple(im.file_names[i] for i in keep), inclusion_prob=im.inclusion_prob[keep],
                      index={int(f): i for i, f in enumerate(im.ids[keep])})
    return to_annotations(label, source, kind=KIND, categories=full.categories, images=images)


def cuboid_automation(results: Sequence[AutomationResult], manual: Annotations,
                      categories: Sequence[tuple[int, str]], source: str = "engine results") -> Annotations:
    """The engine's cuboids on ``manual``'s frames (in its order), categories mapped to the manual's by name."""
    by_frame = {r.frame_id: r for r in results}
    ids = dict(zip(manual.categories.names, manual.categories.ids.tolist(), strict=True))
    names = dict(categories)
    counts, values, cats, scores, confidence, versions = [], [], [], [], [], []
    for f in manual.images.ids.tolist():
        r = by_frame[f]
        known = [i for i, c in enumerate(r.category_ids.tolist()) if names.get(c) in ids]
        counts.append(len(known))
        values += [r.geometry_values()[i] for i in known]
        cats += [ids[names[int(r.category_ids[i])]] for i in known]
        scores += [float(r.scores[i]) for i in known]
        confidence.append(r.confidence)
        versions.append(r.model_version)
    side = FrameColumns(counts=counts, kinds=[KIND] * len(values), values=values, category_ids=cats,
                        tags=[{} for _ in counts], scores=scores, confidence=confidence, model_version=versions)
    return annotations_of(side, manual.images, manual.categories, kind=KIND, source=source)


def compare_cuboids(automation: Annotations, manual: Annotations, spec: QualitySpec) -> Comparison:
    """The comparison ``shadowqa compare --geometry cuboid3d --spec SPEC`` makes (without COCO AP)."""
    return Comparator(CompareOptions(matching=MatchOptions(geometry=KIND), spec=spec)).calculate(automation, manual)


def detector3d_metrics(automation: Annotations, manual: Annotations, spec: QualitySpec) -> tuple[dict[str, Any],
                                                                                                 BoolArray]:
    """nuScenes-style AP and errors, frame acceptance under ``spec``; and whether each frame is accepted."""
    nus = nuscenes_detection(automation, manual)
    comparison = compare_cuboids(automation, manual, spec)
    acc = comparison.overall.acceptance
    return {
        "nuscenes_map": nus.mean_ap, **{key: nus.mean_errors[error] for key, error in TP_ERRORS.items()},
        "per_class": {name: {"ap": c.ap, "ap_at": {str(t): a for t, a in c.ap_at.items()}, "trans_err": c.trans_err,
                             "scale_err": c.scale_err, "orient_err": c.orient_err, "objects": int(c.n_manual)}
                      for name, c in nus.classes.items()},
        "precision": comparison.overall.precision.estimate, "recall": comparison.overall.recall.estimate,
        "acceptance": {"rate": acc.estimate, "lower": acc.lower, "upper": acc.upper},
    }, comparison.frames.accepted

