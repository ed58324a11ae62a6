"""Scoring an engine run against its frames' ground truth, with the agreement engine.

Detectors: COCO mAP@0.5 and mAP@[.5:.95], per-class AP and recall, recall by
object size, frame acceptance under a quality spec, and acceptance by decile of
the model's frame confidence (is the confidence worth sampling on?).
Classifiers: accuracy with its interval, Cohen's kappa and calibration (ECE).
3D detectors, against OpenLABEL ground truth (cuboids): nuScenes-style mAP and true-positive
errors, frame acceptance under the spec and by confidence decile (:mod:`services.engine.evaluate3d`).
Frames the engine failed on are left out of the scores and counted apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.agreement import QualitySpec
from analysis.annotations import Annotations, parse_automation, parse_ground_truth
from analysis.compare import Comparator, CompareOptions
from analysis.detection import average_precision, recall_by_size
from analysis.exceptions import InvalidInput
from analysis.stats import cohen_kappa, expected_calibration_error, wilson_interval
from services.engine.evaluate3d import cuboid_automation, cuboid_truth, detector3d_metrics
from services.engine.frames import FrameSource
from services.engine.results import AutomationResult, to_coco_results
from services.engine.run import RunReport
from services.io.openlabel import is_openlabel

SIZE_BUCKETS = {"tiny (<12²)": (0.0, 144.0), "small (12²–32²)": (144.0, 1024.0),
                "medium (32²–64²)": (1024.0, 4096.0), "large (>64²)": (4096.0, 1e10)}


@dataclass(frozen=True)
class EvalReport:
    model_version: str
    kind: str
    frames: int
    failed: int
    frames_per_second: float
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"model_version": self.model_version, "kind": self.kind, "frames": self.frames,
                "failed": self.failed, "frames_per_second": self.frames_per_second, **self.metrics}


def evaluate(report: RunReport, source: FrameSource, spec: QualitySpec) -> EvalReport:
    doc = source.ground_truth()
    if doc is None:
        raise InvalidInput(source.name, "", "has no ground truth to evaluate against")
    ok = [r for r in report.results if r.ok]
    if is_openlabel(doc):
        return _evaluate_cuboids(report, ok, doc, source.name, spec)
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise InvalidInput(source.name, "", "ground truth is neither COCO (images) nor OpenLABEL (openlabel): "
                           "nothing to score against")
    if any(r.GEOMETRY != AutomationResult.GEOMETRY for r in ok):
        raise InvalidInput(source.name, "", f"{ok[0].GEOMETRY} results are scored against OpenLABEL ground truth "
                           "(cuboids); this source's is COCO")
    manual = parse_ground_truth(_only_frames(doc, {r.frame_id for r in ok}), source.name)
    automation = parse_automation(to_coco_results(ok), "engine results", manual)
    kind = "classifier" if ok and ok[0].tags and not len(manual.objects) else "detector"
    metrics = _classifier(automation, manual) if kind == "classifier" else _detector(automation, manual, spec)
    version = ok[0].model_version if ok else "-"
    return EvalReport(version, kind, len(ok), len(report.failed), report.frames_per_second, metrics)


def _evaluate_cuboids(report: RunReport, ok: list[AutomationResult], doc: dict[str, Any], name: str,
                      spec: QualitySpec) -> EvalReport:
    if not ok:
        raise InvalidInput(name, "", "no frame was annotated (every one failed): nothing to score")
    if any(r.GEOMETRY != "cuboid3d" for r in ok):
        raise InvalidInput(name, "", f"the ground truth is OpenLABEL cuboids: a 3D detector's cuboid3d results are "
                           f"scored against it, not {ok[0].GEOMETRY} results")
    manual = cuboid_truth(doc, name, [r.frame_id for r in ok])
    categories = report.categories or tuple(zip(manual.categories.ids.tolist(), manual.categories.names, strict=True))
    automation = cuboid_automation(ok, manual, categories)
    metrics, accepted = detector3d_metrics(automation, manual, spec)
    metrics["acceptance_by_confidence_decile"] = confidence_deciles(automation.confidence, accepted)
    return EvalReport(ok[0].model_version, "detector3d", len(ok), len(report.failed), report.frames_per_second,
                      metrics)


def _only_frames(doc: dict[str, Any], keep: set[int]) -> dict[str, Any]:
    return {**doc, "images": [i for i in doc["images"] if i["id"] in keep],
            "annotations": [a for a in doc.get("annotations", []) if a["image_id"] in keep]}


def _detector(automation: Annotations, manual: Annotations, spec: QualitySpec) -> dict[str, Any]:
    ap = average_precision(automation, manual)
    sizes = recall_by_size(automation, manual, buckets=SIZE_BUCKETS)
    comparison = Comparator(CompareOptions(spec=spec)).calculate(automation, manual)
    acc = comparison.overall.acceptance
    return {
        "map50": ap.ap50, "map": ap.ap, "map75": ap.ap75,
        "per_class": {name: {"ap50": c.ap50, "ap": c.ap, "recall50": c.recall50, "objects": c.n_manual}
                      for name, c in ap.per_class.items()},
        "recall_by_size": {name: {"recall": b.recall, "objects": b.n_manual} for name, b in sizes.buckets.items()},
        "precision": comparison.overall.precision.estimate, "recall": comparison.overall.recall.estimate,
        "acceptance": {"rate": acc.estimate, "lower": acc.lower, "upper": acc.upper},
        "acceptance_by_confidence_decile": confidence_deciles(automation.confidence, comparison.frames.accepted),
    }


def confidence_deciles(confidence: np.ndarray, accepted: np.ndarray) -> list[dict[str, float]]:
    """Acceptance rate within each decile of frame confidence (lowest first)."""
    order = np.argsort(confidence, kind="stable")
    return [{"min_confidence": float(confidence[part[0]]), "max_confidence": float(confidence[part[-1]]),
             "frames": len(part), "acceptance": float(accepted[part].mean())}
            for part in np.array_split(order, 10) if len(part)]


def _classifier(automation: Annotations, manual: Annotations) -> dict[str, Any]:
    name = manual.tag_table.names[0]
    truth = manual.tag_table.labels(name)
    predicted = automation.tag_table.labels(name)
    correct = np.array([p == t for p, t in zip(predicted, truth, strict=True)])
    k, n = int(correct.sum()), len(correct)
    interval = wilson_interval(k, n)
    calibration = expected_calibration_error(automation.confidence, correct)
    return {"tag": name, "accuracy": k / n if n else math.nan, "accuracy_lower": interval.lower,
            "accuracy_upper": interval.upper, "kappa": cohen_kappa(predicted, truth), "ece": calibration.ece}


def render_report(r: EvalReport) -> str:
    lines = [f"{r.model_version}: {r.frames} frames scored, {r.failed} failed, {r.frames_per_second:.0f} frames/s"]
    m = r.metrics
    if r.kind == "classifier":
        lines.append(f"{m['tag']} accuracy {_pct(m['accuracy'])} [{_pct(m['accuracy_lower'])}, "
                     f"{_pct(m['accuracy_upper'])}], Cohen's kappa {m['kappa']:.3f}, ECE {m['ece']:.3f}")
        return "\n".join(lines)
    if r.kind == "detector3d":
        return "\n".join(lines + render_3d(m))
    acc = m["acceptance"]
    lines += [f"mAP@0.5 {m['map50']:.3f}   mAP@[.5:.95] {m['map']:.3f}   mAP@0.75 {m['map75']:.3f}",
              f"precision {_pct(m['precision'])}   recall {_pct(m['recall'])}   frame acceptance "
              f"{_pct(acc['rate'])} [{_pct(acc['lower'])}, {_pct(acc['upper'])}]", "",
              "class          objects   AP@0.5   recall@0.5"]
    lines += [f"{name:<14}{c['objects']:>8}   {c['ap50']:.3f}   {_pct(c['recall50']):>10}"
              for name, c in m["per_class"].items()]
    lines += ["", "object size          objects   recall@0.5"]
    lines += [f"{name:<20}{b['objects']:>8}   {_pct(b['recall']):>10}" for name, b in m["recall_by_size"].items()]
    deciles = m["acceptance_by_confidence_decile"]
    lines += ["", "acceptance by confidence decile (low to high): "
              + " ".join(_pct(d["acceptance"]) for d in deciles)]
    return "\n".join(lines)


def render_3d(m: dict[str, Any]) -> list[str]:
    """A 3D detector's scores as text lines (after the report's first line)."""
    acc = m["acceptance"]
    lines = [f"nuScenes-style mAP {m['nuscenes_map']:.3f} (centre distance 0.5, 1, 2, 4 m)   mATE {m['mate']:.3f} m   "
             f"mASE {m['mase']:.3f}   mAOE {m['maoe']:.3f} rad",
             f"precision {_pct(m['precision'])}   recall {_pct(m['recall'])}   frame acceptance "
             f"{_pct(acc['rate'])} [{_pct(acc['lower'])}, {_pct(acc['upper'])}]", "",
             "class          objects   AP      AP@0.5m AP@1m   AP@2m   AP@4m   ATE (m)  ASE     AOE (rad)"]
    for name, c in m["per_class"].items():
        at = "".join(f"{a:<8.3f}" for a in c["ap_at"].values())
        lines.append(f"{name:<14}{c['objects']:>8}   {c['ap']:<8.3f}{at}{c['trans_err']:<9.3f}{c['scale_err']:<8.3f}"
                     f"{c['orient_err']:.3f}")
    lines += ["", "acceptance by confidence decile (low to high): "
              + " ".join(_pct(d["acceptance"]) for d in m["acceptance_by_confidence_decile"])]
    return lines


def _pct(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f}%"
