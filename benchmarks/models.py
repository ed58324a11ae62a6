"""The reference models scored on held-out data; rewrites weights/metrics.json and its section.

Run by `make models` after training, so the section also says how far the new
weights moved from the scores committed before.
"""

from __future__ import annotations

from typing import Any

from benchmarks.harness import machine, write_section
from services.engine.evaluate import EvalReport
from services.engine.reference import HELD_OUT, METRICS, evaluate_reference, headline, read_metrics, write_metrics


def main(*, quick: bool = False) -> dict[str, Any]:
    before = read_metrics() if METRICS.exists() else {}
    reports = {name: evaluate_reference(name) for name in HELD_OUT}
    lines = ["## Reference models on held-out data (`benchmarks/models.py`)", "",
             f"Trained by `make models` (seeded, CPU); scored on frames never trained on; {machine()}.", ""]
    lines += _detector_lines(reports["driving-detector"], before.get("driving-detector", {}))
    lines += ["", *_detector3d_lines(reports["driving3d-detector"], before.get("driving3d-detector", {}))]
    lines += ["", *_digits_lines(reports["digits"], before.get("digits", {}))]
    body = "\n".join(lines)
    print(body)
    if not quick:
        write_metrics(reports)
        write_section("models", body)
    return {name: headline(r) for name, r in reports.items()}


def _delta(now: float, before: dict[str, Any], key: str) -> str:
    if key not in before:
        return ""
    return f" (previous weights: {100 * before[key]:.1f}, change {100 * (now - before[key]):+.1f} points)"


def _detector_lines(r: EvalReport, before: dict[str, Any]) -> list[str]:
    m = r.metrics
    lines = [
        f"**`builtin:driving-detector`** (`{r.model_version}`) on `{HELD_OUT['driving-detector']}`, "
        f"{r.frames} frames:", "",
        f"- mAP@0.5 **{100 * m['map50']:.1f}**{_delta(m['map50'], before, 'map50')}; "
        f"mAP@[.5:.95] {100 * m['map']:.1f}; mAP@0.75 {100 * m['map75']:.1f}",
        f"- frame acceptance under the default spec {100 * m['acceptance']['rate']:.1f}% "
        f"[{100 * m['acceptance']['lower']:.1f}%, {100 * m['acceptance']['upper']:.1f}%]",
        "- per class (AP@0.5 / recall@0.5): " + ", ".join(
            f"{name} {100 * c['ap50']:.1f} / {100 * c['recall50']:.1f}" for name, c in m["per_class"].items()),
        "- recall@0.5 by object size: " + ", ".join(
            f"{name} {100 * b['recall']:.1f}%" for name, b in m["recall_by_size"].items()),
        "- frame acceptance by confidence decile, lowest to highest: " + ", ".join(
            f"{100 * d['acceptance']:.0f}%" for d in m["acceptance_by_confidence_decile"]),
    ]
    return lines


def _detector3d_lines(r: EvalReport, before: dict[str, Any]) -> list[str]:
    m = r.metrics
    return [
        f"**`builtin:driving3d-detector`** (`{r.model_version}`) on `{HELD_OUT['driving3d-detector']}`, "
        f"{r.frames} LiDAR sweeps:", "",
        f"- nuScenes-style mAP (centre distance 0.5, 1, 2, 4 m) **{100 * m['nuscenes_map']:.1f}**"
        f"{_delta(m['nuscenes_map'], before, 'nuscenes_map')}; mATE {m['mate']:.3f} m, mASE {m['mase']:.3f}, "
        f"mAOE {m['maoe']:.3f} rad",
        f"- frame acceptance under the driving3d reference spec {100 * m['acceptance']['rate']:.1f}% "
        f"[{100 * m['acceptance']['lower']:.1f}%, {100 * m['acceptance']['upper']:.1f}%]",
        "- per class (AP / ATE m / AOE rad): " + ", ".join(
            f"{name} {100 * c['ap']:.1f} / {c['trans_err']:.2f} / {c['orient_err']:.2f}"
            for name, c in m["per_class"].items()),
        "- frame acceptance by confidence decile, lowest to highest: " + ", ".join(
            f"{100 * d['acceptance']:.0f}%" for d in m["acceptance_by_confidence_decile"]),
    ]


def _digits_lines(r: EvalReport, before: dict[str, Any]) -> list[str]:
    m = r.metrics
    return [
        f"**`builtin:digits`** (`{r.model_version}`) on `{HELD_OUT['digits']}`, {r.frames} frames:", "",
        f"- accuracy **{100 * m['accuracy']:.1f}%** [{100 * m['accuracy_lower']:.1f}%, "
        f"{100 * m['accuracy_upper']:.1f}%]{_delta(m['accuracy'], before, 'accuracy')}; Cohen's kappa "
        f"{m['kappa']:.3f}; expected calibration error {m['ece']:.3f} (temperature-scaled)",
    ]
