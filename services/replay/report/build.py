"""The replay's HTML report, from its summary, the loop's records and the frames (a replay of clips: its
steps' table and galleries, :mod:`services.replay.report.steps`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from analysis.compare import Comparison
from analysis.policy.automation import ALL
from services.replay.clip_data import ClipReplayData, Replayed
from services.replay.config import ReplayConfig
from services.replay.data import ReplayData, only_frames
from services.replay.documents import AnnotationPair, annotation_pair
from services.replay.loop import LoopRun
from services.replay.report import plots
from services.replay.report.html import Page
from services.replay.report.pictures import PICTURES
from services.replay.report.steps import step_galleries, steps_table

GALLERY = 8


def build_report(cfg: ReplayConfig, data: Replayed, run: LoopRun, summary: dict[str, Any]) -> str:
    page = Page(f"shadowqa replay: {cfg.dataset}, seed {cfg.seed}")
    page.paragraph(_headline(summary))
    unit = "clips" if isinstance(data, ClipReplayData) else "frames"
    xs = [w.frames_seen for w in run.windows]
    page.heading("Acceptance over time")
    page.image(plots.acceptance_over_time(
        xs, [w.gate.estimate for w in run.windows], [w.gate.lower for w in run.windows],
        [w.gate.upper for w in run.windows], cfg.loop.target, summary["true_population_acceptance"],
        f"Machine acceptance against people, all {unit} (1/π-weighted)", unit=unit), "acceptance over time")
    page.image(_shipped_plot(cfg, run, unit), f"acceptance of shipped {unit} over time")
    page.heading("Automation rate over time")
    page.image(plots.automation_over_time(xs, [w.shipped / w.frames for w in run.windows],
                                          [w["recommended_rate"] for w in summary["windows"]],
                                          summary["oracle"]["automation_rate"], unit=unit), "automation rate over time")
    if isinstance(data, ClipReplayData):
        steps_table(page, summary["steps"])
        _floor_plot(page, cfg, summary)
        step_galleries(page, data, run)
    else:
        pair = _compared(cfg, data, run)
        comparison = pair.compare(cfg.quality_spec)
        _agreement_plots(page, cfg, comparison, summary)
        _gallery(page, data, comparison, pair.kind)
    _window_table(page, summary)
    return page.render()


def _headline(s: dict[str, Any]) -> str:
    est = s["estimated_population_acceptance"]
    shipped = s["shipped"]["true_acceptance"]
    share = s["share_of_oracle"]
    clips = s.get("unit") == "clip"
    unit = "clips" if clips else "frames"
    replayed = f"{s['clips']} clips ({s['frames']} frames)" if clips else f"{s['frames']} frames"
    return (
        f"{replayed} through {s['model_version']}, target acceptance {s['target']:g} at α {s['alpha']:g}. "
        f"True population acceptance {s['true_population_acceptance']:.3f}; estimated {est['estimate']:.3f} "
        f"[{est['lower']:.3f}, {est['upper']:.3f}] from {est['n']} compared {unit}. "
        f"Final automation rate {s['final_automation_rate']:.1%} against an oracle rate of "
        f"{s['oracle']['automation_rate']:.1%}" + (f" ({share:.0%} of it)" if share is not None else "") + "; "
        f"{s['shipped']['frames']} {unit} shipped" + (f" with true acceptance {shipped:.3f}." if shipped else ".")
    )


def _shipped_plot(cfg: ReplayConfig, run: LoopRun, unit: str) -> bytes:
    """Per window, the candidate the recommender chose (or stopped at): estimate and lower bound,
    beside the true acceptance of the frames that window actually shipped."""
    xs, est, low, shipped_x, shipped_y = [], [], [], [], []
    for w in run.windows:
        ev = w.recommendation.strata[ALL]
        test = ev.chosen or (ev.tested[-1] if ev.tested else None)
        if test is not None and math.isfinite(test.estimate):
            xs.append(w.frames_seen)
            est.append(test.estimate)
            low.append(test.lower)
        if w.shipped:
            shipped_x.append(w.frames_seen)
            shipped_y.append(w.shipped_true_accepted / w.shipped)
    return plots.shipped_acceptance(xs, est, low, shipped_x, shipped_y, cfg.loop.target, unit=unit)


def _compared(cfg: ReplayConfig, data: ReplayData, run: LoopRun) -> AnnotationPair:
    """Machine vs annotator 1 over every frame people saw, weighted by the router's 1/π."""
    prob = {int(d.frame_id): d.inclusion_prob for d in run.decisions if d.route == "manual"}
    manual_doc = only_frames(data.people[0], set(prob))
    manual_doc["images"] = [{**img, "inclusion_prob": prob[img["id"]]} for img in manual_doc["images"]]
    return annotation_pair(only_frames(data.machine, set(prob)), manual_doc, geometry=cfg.profile.geometry)


def _agreement_plots(page: Page, cfg: ReplayConfig, c: Comparison, summary: dict[str, Any]) -> None:
    page.heading("Agreement per class and per stratum")
    rows = [(f"class {n}", s.acceptance) for n, s in c.per_class.items()]
    rows += [(f"{k}={v}", s.acceptance) for k, vals in c.strata.items() if k != "model_version"
             for v, s in vals.items()]
    if rows:
        page.image(plots.bars_with_intervals([r[0] for r in rows], [r[1].estimate for r in rows],
                                             [r[1].lower for r in rows], [r[1].upper for r in rows],
                                             "Frame acceptance (1/π-weighted) with 95% intervals", cfg.loop.target,
                                             "target"), "agreement per class and stratum")
    _floor_plot(page, cfg, summary)


def _floor_plot(page: Page, cfg: ReplayConfig, summary: dict[str, Any]) -> None:
    machine, floor = summary["machine_agreement"], summary["human_floor"]["estimate"]
    if machine is None:
        return
    labels, rates = ["machine vs people"], [machine]
    if floor is not None:
        labels.append("people vs people (consensus copies)")
        rates.append(floor)
    page.heading("Human floor")
    page.image(plots.bars_with_intervals(labels, [r["estimate"] for r in rates], [r["lower"] for r in rates],
                                         [r["upper"] for r in rates], "Machine agreement beside the human floor",
                                         cfg.loop.target, "target"), "human floor")


def _gallery(page: Page, data: ReplayData, c: Comparison, kind: str) -> None:
    picture = PICTURES.get(kind)
    if picture is None:
        return
    errors = c.frames.fp + c.frames.fn + c.frames.class_confused + c.frames.poor_iou
    worst = np.argsort(-errors, kind="stable")[:GALLERY]
    page.heading("Worst disagreements (people green, machine red)")
    frames = {f.frame_id: f for f in data.frames}
    for f in worst.tolist():
        frame_id = int(c.manual.images.ids[f])
        frame = frames.get(frame_id)
        poor = int(c.frames.poor_iou[f])
        caption = f"frame {frame_id}: {c.frames.fn[f]} missed, {c.frames.fp[f]} extra" + (
            f", {poor} poorly localised" if poor else "")
        png = None if frame is None or errors[f] == 0 else picture(frame, c, f, caption)
        if png is not None:
            page.image(png, f"frame {frame_id}", caption, gallery=True)


def _window_table(page: Page, s: dict[str, Any]) -> None:
    page.heading("Windows")
    rows = [[str(w["index"]), str(w["frames_seen"]), f"{w['automation_rate']:.1%}", w["gate"]["decision"],
             w["action"], w["reason"]] for w in s["windows"]]
    page.table(["window", "frames", "shipped", "gate", "action", "reason"], rows)
