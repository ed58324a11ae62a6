"""A replay as a run report's view (:mod:`services.report.view`): its windows, its comparisons in the order the
loop counted them, the truth only a replay knows, and (frames) machine vs people per class with the gallery's
frames, or (clips) the steps table and the step galleries."""

from __future__ import annotations

import math
from typing import Any

from analysis.compare import Comparison
from services.engine.frames import Frame
from services.replay.clip_data import ClipReplayData, Replayed
from services.replay.config import ReplayConfig
from services.replay.data import ReplayData, only_frames
from services.replay.documents import annotation_pair
from services.replay.loop import LoopRun
from services.report.build import build_report
from services.report.steps import ComparedClip, step_galleries, steps_table
from services.report.view import Compared, RunView, Truth, WindowView


def replay_view(cfg: ReplayConfig, data: Replayed, run: LoopRun, summary: dict[str, Any]) -> RunView:
    clips = isinstance(data, ClipReplayData)
    machine = Compared.of([o.accepted for o in run.observations], [o.weight for o in run.observations],
                          [run.ships.get(o.frame_id, False) for o in run.observations])
    consensus = Compared.of([o.accepted for o in run.consensus], [o.weight for o in run.consensus])
    view = RunView(
        kind="replay", title=f"shadowqa replay: {cfg.dataset}, seed {cfg.seed}", unit="clip" if clips else "frame",
        summary=[_headline(summary)], target=cfg.loop.target, alpha=cfg.loop.alpha, max_weight=cfg.loop.max_weight,
        windows=_windows(run, summary), machine=machine, consensus=consensus, geometry=cfg.profile.geometry,
        truth=Truth(summary["true_population_acceptance"], summary["oracle"]["automation_rate"]),
        provenance=[("frames and truth", f"{cfg.dataset}, seed {cfg.seed} (in-process replay, no broker)"),
                    ("machine labels", str(summary["model_version"])),
                    ("people", "simulated annotators (services/replay/annotators.py), blind to the machine"),
                    ("loop", f"the shadow loop's in-process driver, window {cfg.loop.window} comparisons")],
    )
    if isinstance(data, ClipReplayData):
        compared = [ComparedClip(m, a, run.steps[m.frame_id])
                    for m, a in zip(data.messages, data.first, strict=True) if m.frame_id in run.steps]
        view.extra_agreement = lambda page: steps_table(page, summary["steps"]["estimate"], summary["steps"]["truth"])
        view.extra_gallery = lambda page: step_galleries(page, compared, lambda at: data.frame(int(at.frame_id)),
                                                         data.categories)
    else:
        view.comparison = _compared(cfg, data, run)
        frames = {f.frame_id: f for f in data.frames}
        view.frame = lambda frame_id: _frame(frames, frame_id)
    return view


def _frame(frames: dict[int, Frame], frame_id: int) -> Frame | None:
    return frames.get(frame_id)


def _windows(run: LoopRun, summary: dict[str, Any]) -> list[WindowView]:
    views = []
    for w, doc in zip(run.windows, summary["windows"], strict=True):
        rec = w.recommendation
        views.append(WindowView(
            index=w.index, seen=w.frames_seen, compared=w.compared,
            threshold=w.threshold if math.isfinite(w.threshold) else None, shipped=w.shipped,
            manual=w.manual, action=rec.action, rate=doc["recommended_rate"], reason=doc["reason"],
            stepped=w.stepped, source="in-process replay",
            shipped_true=w.shipped_true_accepted / w.shipped if w.shipped else None))
    return views


def _compared(cfg: ReplayConfig, data: ReplayData, run: LoopRun) -> Comparison:
    """Machine vs annotator 1 over every frame people saw, weighted by the router's 1/π."""
    prob = {int(d.frame_id): d.inclusion_prob for d in run.decisions if d.route == "manual"}
    manual_doc = only_frames(data.people[0], set(prob))
    manual_doc["images"] = [{**img, "inclusion_prob": prob[img["id"]]} for img in manual_doc["images"]]
    pair = annotation_pair(only_frames(data.machine, set(prob)), manual_doc, geometry=cfg.profile.geometry)
    return pair.compare(cfg.quality_spec)


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


def build_replay_report(cfg: ReplayConfig, data: Replayed, run: LoopRun, summary: dict[str, Any]) -> str:
    return build_report(replay_view(cfg, data, run, summary))
