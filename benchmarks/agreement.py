"""Matching and agreement core against pycocotools' ``COCOeval.evaluate()``.

Same 10,000 simulated driving frames (about 20 objects each) for both sides:
(1) the in-process core (matching, per-frame agreement, acceptance, summaries)
against ``evaluate()`` with area range 'all' only, once with its default ten
IoU thresholds and once with the single threshold 0.5 our core uses; (2) COCO's
twelve AP/AR stats in-process (``analysis.detection.coco_summary``) against
``evaluate(); accumulate(); summarize()``, both with COCO's default parameters;
(3) the whole ``shadowqa compare --json`` process (start-up, parsing, output)
at equal work: with ``--no-ap`` against a process doing pycocotools' load +
``evaluate()`` (area 'all'; with its ten thresholds, and with IoU 0.5 only, the
one threshold compare matches at), and with its AP/AR summary against load +
``evaluate(); accumulate(); summarize()`` (four area ranges).
"""

from __future__ import annotations

import contextlib
import copy
import io
import sys
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from analysis.annotations import parse_automation, parse_ground_truth
from analysis.compare import Comparator, CompareOptions
from analysis.detection import coco_summary
from analysis.matching import MatchOptions
from benchmarks.harness import DATA, ROOT, Timing, machine, time_call, time_process, write_section
from services.datasets.box_pairs import PairConfig, generate
from services.io.files import write_json

_PYCOCO_PROCESS = """
import sys, contextlib, io
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
mode = sys.argv[3] if len(sys.argv) > 3 else ""
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2])
    ev = COCOeval(gt, dt, "bbox"); ev.params.areaRng = [[0, 1e10]]; ev.params.areaRngLbl = ["all"]
    if mode == "iou50":
        ev.params.iouThrs = np.array([0.5])
    ev.evaluate()
    if mode == "summarize":
        ev = COCOeval(gt, dt, "bbox"); ev.evaluate(); ev.accumulate(); ev.summarize()
"""


def main(*, quick: bool = False) -> dict[str, float]:
    frames = 300 if quick else 10_000
    repeat = 1 if quick else 3
    manual_doc, automation_doc = generate(PairConfig(frames=frames, objects_per_frame=20, seed=7))
    results = automation_doc["annotations"]
    manual = parse_ground_truth(manual_doc, "gt.json")
    automation = parse_automation(results, "results.json", manual)
    t: dict[str, Timing] = {}
    for method in ("hungarian", "coco"):
        comparator = Comparator(CompareOptions(MatchOptions(method=method)))
        t[method] = time_call(lambda c=comparator: c.calculate(automation, manual), repeat)
    gt, dt = _pycocotools_sets(manual_doc, results)
    t["pycoco10"] = time_call(lambda: _evaluate(gt, dt, None), repeat)
    t["pycoco1"] = time_call(lambda: _evaluate(gt, dt, [0.5]), repeat)
    t["summary"] = time_call(lambda: coco_summary(automation, manual), repeat)
    t["pycoco_summary"] = time_call(lambda: _summarize(gt, dt), repeat)
    gt_path, dt_path = DATA / "agreement-gt.json", DATA / "agreement-results.json"
    DATA.mkdir(parents=True, exist_ok=True)
    write_json(gt_path, manual_doc, indent=False)
    write_json(dt_path, results, indent=False)
    cli = [str(ROOT / ".venv" / "bin" / "shadowqa"), "compare", "--automation", str(dt_path),
           "--manual", str(gt_path), "--json"]
    pycoco = [sys.executable, "-c", _PYCOCO_PROCESS, str(gt_path), str(dt_path)]
    t["cli"] = time_process([*cli, "--no-ap"], repeat)
    t["pycoco_process"] = time_process(pycoco, repeat)
    t["pycoco1_process"] = time_process([*pycoco, "iou50"], repeat)
    t["cli_ap"] = time_process(cli, repeat)
    t["pycoco_summary_process"] = time_process([*pycoco, "summarize"], repeat)
    ratios = _report(t, frames, len(manual.objects), len(automation.objects), quick)
    return ratios


def _pycocotools_sets(manual_doc: dict[str, Any], results: list[dict[str, Any]]) -> tuple[COCO, COCO]:
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(manual_doc)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results))
    return gt, dt


def _evaluate(gt: COCO, dt: COCO, thresholds: list[float] | None) -> None:
    ev = COCOeval(gt, dt, "bbox")
    ev.params.areaRng = [[0, 1e10]]
    ev.params.areaRngLbl = ["all"]
    if thresholds is not None:
        ev.params.iouThrs = np.array(thresholds)
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()


def _summarize(gt: COCO, dt: COCO) -> None:
    """``evaluate(); accumulate(); summarize()`` with COCO's default parameters (what the twelve stats take)."""
    ev = COCOeval(gt, dt, "bbox")
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
        ev.summarize()


def _report(t: dict[str, Timing], frames: int, n_gt: int, n_dt: int, quick: bool) -> dict[str, float]:
    ratios = {
        "hungarian_vs_pycoco10": t["pycoco10"].median / t["hungarian"].median,
        "hungarian_vs_pycoco1": t["pycoco1"].median / t["hungarian"].median,
        "coco_vs_pycoco10": t["pycoco10"].median / t["coco"].median,
        "coco_vs_pycoco1": t["pycoco1"].median / t["coco"].median,
        "summary_vs_pycoco_summary": t["pycoco_summary"].median / t["summary"].median,
        "cli_vs_pycoco_process": t["pycoco_process"].median / t["cli"].median,
        "cli_vs_pycoco1_process": t["pycoco1_process"].median / t["cli"].median,
        "cli_ap_vs_pycoco_summary_process": t["pycoco_summary_process"].median / t["cli_ap"].median,
    }
    rows = [
        ("core, `--matching hungarian` (default)", "hungarian"),
        ("core, `--matching coco`", "coco"),
        ("pycocotools `evaluate()`, area 'all', 10 IoU thresholds (default)", "pycoco10"),
        ("pycocotools `evaluate()`, area 'all', IoU 0.5 only", "pycoco1"),
        ("core, COCO's twelve AP/AR stats (`coco_summary`)", "summary"),
        ("pycocotools `evaluate(); accumulate(); summarize()` (default parameters)", "pycoco_summary"),
    ]
    processes = [
        ("`shadowqa compare --json --no-ap` process", "cli"),
        ("pycocotools load + `evaluate()` process (area 'all', 10 thresholds)", "pycoco_process"),
        ("pycocotools load + `evaluate()` process (area 'all', IoU 0.5 only)", "pycoco1_process"),
        ("`shadowqa compare --json` process (with the twelve AP/AR stats)", "cli_ap"),
        ("pycocotools load + `evaluate(); accumulate(); summarize()` process", "pycoco_summary_process"),
    ]
    lines = [
        "## Agreement core vs pycocotools (`benchmarks/agreement.py`)",
        "",
        f"{frames:,} frames, {n_gt:,} manual and {n_dt:,} machine boxes; {machine()}."
        + (" QUICK SMOKE RUN, not a measurement." if quick else ""),
        "",
        "| what | median s | frames/s |",
        "|---|---:|---:|",
        *[f"| {label} | {t[key].median:.3f} | {t[key].rate(frames):,.0f} |" for label, key in rows],
        *[f"| {label} | {t[key].median:.2f} | {t[key].rate(frames):,.0f} |" for label, key in processes],
        "",
        "| ratio (higher is better for shadowqa) | × |",
        "|---|---:|",
        f"| core (hungarian) vs `evaluate()`, 10 thresholds | {ratios['hungarian_vs_pycoco10']:.1f} |",
        f"| core (hungarian) vs `evaluate()`, IoU 0.5 only | {ratios['hungarian_vs_pycoco1']:.1f} |",
        f"| core (coco) vs `evaluate()`, 10 thresholds | {ratios['coco_vs_pycoco10']:.1f} |",
        f"| core (coco) vs `evaluate()`, IoU 0.5 only | {ratios['coco_vs_pycoco1']:.1f} |",
        f"| core twelve stats vs `evaluate(); accumulate(); summarize()` | {ratios['summary_vs_pycoco_summary']:.1f} |",
        f"| `compare --json --no-ap` process vs pycocotools load + evaluate process "
        f"| {ratios['cli_vs_pycoco_process']:.1f} |",
        f"| `compare --json --no-ap` process vs pycocotools load + evaluate process, IoU 0.5 only (equal work) "
        f"| {ratios['cli_vs_pycoco1_process']:.1f} |",
        f"| `compare --json` process vs pycocotools load + evaluate + accumulate + summarize process "
        f"| {ratios['cli_ap_vs_pycoco_summary_process']:.1f} |",
        "",
        f"At equal work (matching at IoU 0.5, no AP/AR), the `shadowqa compare --json --no-ap` process takes "
        f"{1 / ratios['cli_vs_pycoco1_process']:.2f}× the time of pycocotools' load + `evaluate()` (target: at most "
        "0.5×).",
    ]
    body = "\n".join(lines)
    print(body)
    if not quick:
        write_section("agreement", body)
    return ratios
