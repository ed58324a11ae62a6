"""The JSON document ``shadowqa compare --json`` prints: ``frames`` and ``summary``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from analysis.agreement import Rate, StratumSummary
from analysis.compare import Comparison
from analysis.detection import COCO_IOU_THRESHOLDS, CocoSummary
from analysis.stats import Interval

SCHEMA_VERSION = 1


def comparison_document(result: Comparison) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "frames": frame_records(result), "summary": summary_record(result)}


def frame_records(result: Comparison) -> list[dict[str, Any]]:
    fa = result.frames
    columns = {
        "image_id": result.manual.images.ids.tolist(), "tp": fa.tp.tolist(), "fp": fa.fp.tolist(),
        "fn": fa.fn.tolist(), "mean_iou": _nullable(fa.mean_iou), "accepted": fa.accepted.tolist(),
        "precision": _nullable(fa.precision), "recall": _nullable(fa.recall),
        "class_confused": fa.class_confused.tolist(), "poor_iou": fa.poor_iou.tolist(),
    }
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def summary_record(result: Comparison) -> dict[str, Any]:
    m, fa = result.options.matching, result.frames
    return {
        "matching": m.method, "iou_threshold": m.iou_threshold, "class_aware": m.class_aware,
        "geometry": m.geometry, **stratum_record(result.overall),
        "class_agreement": _share(fa.tp.sum(), fa.tp.sum() + fa.class_confused.sum()),
        "per_class": {name: stratum_record(s) for name, s in result.per_class.items()},
        "strata": {k: {v: stratum_record(s) for v, s in vals.items()} for k, vals in result.strata.items()},
        "tags": {k: {"frames": t.frames, "agreement": _float(t.agreement), "kappa": _float(t.kappa)}
                 for k, t in result.tags.items()},
        "attribute_agreement": _share(fa.attributes.agreed.sum(), fa.attributes.compared.sum()),
        "confusion": {"labels": [*result.manual.categories.names, "(none)"],
                      "matrix": result.confusion.matrix.tolist()},
        "coco": coco_record(result.coco, result.coco_skipped),
    }


def coco_record(coco: CocoSummary | None, skipped: str) -> dict[str, Any]:
    """COCOeval's twelve stats (null where pycocotools prints -1) and AP per class, or why they are absent."""
    if coco is None:
        return {"computed": False, "reason": skipped}
    return {
        "computed": True, "geometry": coco.geometry, "iou_thresholds": list(COCO_IOU_THRESHOLDS),
        "stats": {name: _float(value) for name, value in coco.stats.items()},
        "per_class": {name: {"AP": _float(c.ap), "AP50": _float(c.ap50), "AP75": _float(c.ap75),
                             "AR_100": _float(c.ar), "manual_objects": c.n_manual}
                      for name, c in coco.per_class.items()},
    }


def stratum_record(s: StratumSummary) -> dict[str, Any]:
    return {
        "frames": s.frames, "weighted": s.weighted, "tp": s.tp, "fp": s.fp, "fn": s.fn,
        "precision": _float(s.precision.estimate), "recall": _float(s.recall.estimate),
        "f1": _float(s.f1), "mean_iou": _float(s.mean_iou),
        "acceptance_rate": rate_record(s.acceptance),
        "precision_interval": _interval(s.precision.interval),
        "recall_interval": _interval(s.recall.interval),
    }


def rate_record(rate: Rate) -> dict[str, Any]:
    doc: dict[str, Any] = {"estimate": _float(rate.estimate), **_interval(rate.interval)}
    for alt in rate.alternatives:
        doc[alt.method.replace("-", "_")] = {"lower": alt.lower, "upper": alt.upper}
    return doc


def _interval(interval: Interval) -> dict[str, Any]:
    return {"lower": interval.lower, "upper": interval.upper, "method": interval.method,
            "confidence": interval.confidence}


def _share(part: Any, whole: Any) -> float | None:
    return float(part) / float(whole) if whole > 0 else None


def _float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]
