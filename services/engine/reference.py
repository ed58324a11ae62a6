"""The reference models' scores on held-out data: computed by `make models`, checked by tests.

Held-out data: synthetic driving frames (images and LiDAR sweeps) of a seed never
trained on, and the digits test split. Frame acceptance is judged under the default
spec for images, under the driving3d reference spec (:mod:`services.datasets.driving3d.qa_spec`)
for sweeps. The scores are written to ``weights/metrics.json`` beside the weights
they belong to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analysis.agreement import QualitySpec
from services.datasets.driving3d.qa_spec import REFERENCE_SPEC as DRIVING3D_SPEC
from services.engine.evaluate import EvalReport, evaluate
from services.engine.loading import WEIGHTS, load_runner
from services.engine.run import run_frames
from services.engine.sources import open_source

HELD_OUT = {
    "driving-detector": "synthetic://driving?seed=2&n=500",
    "digits": "sklearn-digits://?split=test",
    "driving3d-detector": "synthetic://driving3d?seed=2&n=500",
}
SPECS = {"driving3d-detector": DRIVING3D_SPEC}  # the others: the default spec
METRICS = WEIGHTS / "metrics.json"


def evaluate_reference(name: str, batch_size: int = 16, source: str | None = None) -> EvalReport:
    """Score the committed weights of ``name`` on its held-out frames (or ``source``) under its spec."""
    runner = load_runner(f"builtin:{name}")
    frames = open_source(source or HELD_OUT[name])
    report = run_frames(runner, frames, batch_size=batch_size)
    return evaluate(report, frames, SPECS.get(name, QualitySpec()))


def headline(report: EvalReport) -> dict[str, Any]:
    """The numbers README and BENCHMARKS.md quote."""
    m = report.metrics
    if report.kind == "classifier":
        return {"model_version": report.model_version, "accuracy": m["accuracy"], "ece": m["ece"]}
    if report.kind == "detector3d":
        return {"model_version": report.model_version, "nuscenes_map": m["nuscenes_map"],
                "ap": {name: c["ap"] for name, c in m["per_class"].items()},
                **{key: m[key] for key in ("mate", "mase", "maoe")}, "acceptance": m["acceptance"]["rate"]}
    return {"model_version": report.model_version, "map50": m["map50"], "map": m["map"],
            "acceptance": m["acceptance"]["rate"]}


def write_metrics(reports: dict[str, EvalReport], path: Path = METRICS) -> None:
    doc = {name: {"held_out": HELD_OUT[name], **headline(r)} for name, r in reports.items()}
    path.write_text(json.dumps(doc, indent=2) + "\n")


def read_metrics(path: Path = METRICS) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded
