"""Judging every step of a chain run against the ground truth, and naming the step that limits it.

Per clip and over the run, per step: its agreement with the truth (MOTA, IDF1, HOTA for steps with track ids;
matches, misses, false positives, precision and recall for every step) and its share of the final output's
errors (:mod:`analysis.tracking.attribution` states the rules). The run's counts are the sums of its clips';
its HOTA is TrackEval's combination over the clips (:mod:`analysis.tracking.concat`). How a step's output and
the ground truth become tracks: :mod:`services.engine.chain.clip_tracks`. With a clip spec, also every clip's
acceptance at every step (:mod:`services.engine.chain.clip_acceptance`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.exceptions import InvalidInput
from analysis.tracking import Tracks
from analysis.tracking.attribution import StepTracks, attribute_chain
from analysis.tracking.attribution_results import ChainAttribution, combine
from analysis.tracking.clip_spec import ClipAcceptanceSpec
from analysis.tracking.concat import concatenate
from analysis.tracking.hota import hota_metrics
from analysis.tracking.pairs import clip_pairs
from services.engine.chain.clip_acceptance import ClipAcceptance, judge_clips, render_acceptance
from services.engine.chain.clip_tracks import ClipLayout, Untracked, step_tracks, truth_tracks
from services.engine.chain.data import StepOutput
from services.engine.chain.manifest import Manifest, read_manifest
from services.engine.chain.snapshot import read_snapshot

Hota = tuple[float | None, ...]  # per step, None for a step without track ids


@dataclass(frozen=True)
class ClipEvaluation:
    """One clip (``video_id``): the attribution and each step's HOTA."""

    video_id: int
    attribution: ChainAttribution
    hota: Hota

    def to_dict(self) -> dict[str, Any]:
        return {"video_id": self.video_id, **_with_hota(self.attribution, self.hota)}


@dataclass(frozen=True)
class ChainEvaluation:
    """A run judged step by step: every clip, and the run (``overall``: summed counts, combined HOTA); with a
    clip spec, each clip's acceptance at each step (``acceptance``)."""

    source: str
    model_version: str
    clips: tuple[ClipEvaluation, ...]
    overall: ChainAttribution
    hota: Hota
    acceptance: ClipAcceptance | None = None

    @property
    def limiting_step(self) -> str | None:
        return self.overall.limiting_step

    def to_dict(self) -> dict[str, Any]:
        doc = {"source": self.source, "model_version": self.model_version,
               "overall": _with_hota(self.overall, self.hota), "clips": [c.to_dict() for c in self.clips]}
        if self.acceptance is not None:
            doc["clip_acceptance"] = self.acceptance.to_dict()
        return doc


def evaluate_chain(outputs: Sequence[tuple[str, StepOutput]], ground_truth: dict[str, Any], *,
                   iou_threshold: float = 0.5, source: str = "", untracked: Untracked = "drop",
                   clip_spec: ClipAcceptanceSpec | None = None) -> ChainEvaluation:
    """Judge the steps' outputs (in chain order) against ``ground_truth`` (COCO, COCO-video for clips);
    ``untracked``: what boxes without a track id of a step with ids are (:mod:`.clip_tracks`); ``clip_spec``:
    also judge each clip's acceptance at each step."""
    layout = ClipLayout.of(ground_truth)
    if not layout.lengths or not outputs:
        raise InvalidInput(source or "ground truth", "", "nothing to evaluate: no images or no steps")
    truth = truth_tracks(ground_truth, layout, source or "ground truth")
    steps = [step_tracks(name, output, layout, untracked=untracked) for name, output in outputs]
    videos = list(layout.lengths)
    clips = tuple(_clip(video, truth[video], [s[video] for s in steps], iou_threshold) for video in videos)
    whole = [_joined(by_clip, videos) for by_clip in steps]
    version = outputs[-1][1].model_version
    acceptance = None if clip_spec is None else judge_clips(
        clip_spec, ground_truth, truth, steps, outputs, iou_threshold=iou_threshold, untracked=untracked,
        source=source)
    return ChainEvaluation(source, version, clips, combine(c.attribution for c in clips),
                           _hota(concatenate(list(truth.values())), whole), acceptance)


def evaluate_run(folder: Path, ground_truth: dict[str, Any], *, iou_threshold: float = 0.5,
                 untracked: Untracked = "drop", clip_spec: ClipAcceptanceSpec | None = None) -> ChainEvaluation:
    """Judge the run whose snapshots and manifest are in ``folder`` (``engine run --pipeline --out``)."""
    manifest, outputs = read_run(folder)
    return evaluate_chain(outputs, ground_truth, iou_threshold=iou_threshold, source=manifest.source,
                          untracked=untracked, clip_spec=clip_spec)


def read_run(folder: Path) -> tuple[Manifest, list[tuple[str, StepOutput]]]:
    """The manifest of the run in ``folder`` and every step's output, checked against its content hash."""
    manifest = read_manifest(folder)
    return manifest, [(s.name, read_snapshot(folder / s.name, s.hash)) for s in manifest.steps]


def _clip(video: int, truth: Tracks, steps: list[StepTracks], iou_threshold: float) -> ClipEvaluation:
    return ClipEvaluation(video, attribute_chain(truth, steps, iou_threshold=iou_threshold), _hota(truth, steps))


def _joined(by_clip: dict[int, StepTracks], videos: list[int]) -> StepTracks:
    first = by_clip[videos[0]]
    return StepTracks(first.name, concatenate([by_clip[v].tracks for v in videos]), first.has_ids)


def _hota(truth: Tracks, steps: list[StepTracks]) -> Hota:
    return tuple(hota_metrics(clip_pairs(truth, s.tracks)).hota if s.has_ids else None for s in steps)


def _with_hota(attribution: ChainAttribution, hota: Hota) -> dict[str, Any]:
    doc = attribution.to_dict()
    for step, value in zip(doc["steps"], hota, strict=True):
        step["agreement"]["hota"] = value
    return doc


def render_evaluation(ev: ChainEvaluation) -> str:
    """A table per clip and one for the run, each naming its limiting step."""
    lines = [f"{ev.model_version or '-'} on {ev.source or '-'} (IoU >= {ev.overall.iou_threshold:g})", ""]
    for clip in ev.clips:
        lines += [*_table(f"clip {clip.video_id}", clip.attribution, clip.hota), ""]
    lines += _table(f"overall ({ev.overall.clips} clips)", ev.overall, ev.hota)
    if ev.acceptance is not None:
        lines += ["", *render_acceptance(ev.acceptance)]
    return "\n".join(lines)


def _table(title: str, a: ChainAttribution, hota: Hota) -> list[str]:
    final = a.final
    lines = [f"{title}: {final.total} final errors ({final.misses} misses, {final.false_positives} false "
             f"positives, {final.switches} ID switches); limiting step: {a.limiting_step or '-'}",
             f"  {'step':<12}{'MOTA':>8}{'IDF1':>8}{'HOTA':>8}{'prec':>8}{'recall':>8}{'misses':>8}{'FPs':>7}"
             f"{'IDsw':>6}   share (misses/FPs/IDsw attributed; +introduced -removed)"]
    for s, share, h in zip(a.steps, a.shares, hota, strict=True):
        f, t, i, r = s.figures, s.attributed, s.introduced, s.removed
        lines.append(f"  {s.name:<12}{_num(f.mota):>8}{_num(f.idf1):>8}{_num(h):>8}{_num(f.precision):>8}"
                     f"{_num(f.recall):>8}{f.misses:>8}{f.false_positives:>7}{f.switches:>6}   {100 * share:5.1f}% "
                     f"({t.misses}/{t.false_positives}/{t.switches}; +{i.total} -{r.total})")
    return lines


def _num(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3f}"
