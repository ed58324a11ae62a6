"""Clip acceptance in ``shadowqa engine eval --pipeline --clip-spec CLIP_SPEC.yaml``: every clip judged under a
:class:`~analysis.tracking.clip_spec.ClipAcceptanceSpec` at every step, and the share of clips each step would
ship, overall and per stratum.

A step is judged on the tracks the evaluation compares (:mod:`.clip_tracks`, the same ``untracked`` rule) and, with
frame rules, on its COCO results of those boxes, frame by frame with the comparator. A step without track ids
fails any track rule (it has no tracks to ship). A clip's stratum is formed from its first frame's ``tags``
(constant over a clip) as the replay forms a frame's (:mod:`analysis.sampling.strata`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.agreement import QualitySpec
from analysis.annotations import Annotations, parse_automation, parse_ground_truth
from analysis.sampling.strata import stratum_of
from analysis.tracking import Tracks, track_metrics
from analysis.tracking.attribution import StepTracks
from analysis.tracking.clip_spec import ClipAcceptanceSpec, ClipJudgement, frame_acceptance, judge_clip
from services.engine.chain.clip_tracks import ClipLayout, Untracked
from services.engine.chain.data import StepOutput
from services.engine.results import to_coco_results

STRATA = ("weather", "time_of_day")  # the clip tags whose values make its stratum


@dataclass(frozen=True)
class ClipVerdicts:
    """One clip (``video_id``) in its stratum: each step's judgement, in chain order."""

    video_id: int
    stratum: str
    judgements: tuple[ClipJudgement, ...]

    def to_dict(self, steps: Sequence[str]) -> dict[str, Any]:
        return {"video_id": self.video_id, "stratum": self.stratum,
                "steps": [{"name": s, **j.to_dict()} for s, j in zip(steps, self.judgements, strict=True)]}


@dataclass(frozen=True)
class ClipAcceptance:
    """A run's clips judged under ``spec`` at each of ``steps``."""

    spec: ClipAcceptanceSpec
    steps: tuple[str, ...]
    clips: tuple[ClipVerdicts, ...]

    @property
    def strata(self) -> tuple[str, ...]:
        return tuple(sorted({c.stratum for c in self.clips}))

    def tally(self, stratum: str | None = None) -> tuple[tuple[int, int], ...]:
        """Per step: (clips accepted, clips), over every clip or those of one stratum."""
        chosen = [c for c in self.clips if stratum is None or c.stratum == stratum]
        return tuple((sum(c.judgements[k].accepted for c in chosen), len(chosen)) for k in range(len(self.steps)))

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "overall": self._shares(None),
                "strata": {s: self._shares(s) for s in self.strata},
                "clips": [c.to_dict(self.steps) for c in self.clips]}

    def _shares(self, stratum: str | None) -> dict[str, dict[str, Any]]:
        return {s: {"accepted": k, "clips": n, "share": k / n if n else None}
                for s, (k, n) in zip(self.steps, self.tally(stratum), strict=True)}


def load_clip_spec(path: str | Path) -> ClipAcceptanceSpec:
    """The clip spec in ``path`` (or a built-in one: ``builtin:driving-clips``); its ``frames`` may name a dataset
    (``driving``: that dataset's QA spec) or a quality spec file (relative to ``path``'s folder)."""
    from services.datasets.driving.builtin_specs import resolve
    from services.io.files import read_yaml

    file = resolve(path)
    return ClipAcceptanceSpec.from_dict(read_yaml(file), str(path), frames_named=lambda name: _frames(name, file))


def _frames(name: str, beside: str | Path) -> QualitySpec:
    import services.datasets.profiles  # noqa: F401  (registers the built-in datasets' profiles)
    from services.io.annotation_files import load_spec
    from services.loop.datasets import profile, profile_names

    if name in profile_names():
        return profile(name).spec
    return load_spec(Path(beside).parent / name)


def judge_clips(spec: ClipAcceptanceSpec, ground_truth: dict[str, Any], truth: dict[int, Tracks],
                steps: Sequence[dict[int, StepTracks]], outputs: Sequence[tuple[str, StepOutput]], *,
                iou_threshold: float = 0.5, untracked: Untracked = "drop", source: str = "") -> ClipAcceptance:
    """Every clip of ``truth`` judged at every step (``steps[k]``: step k's tracks per clip, from ``outputs[k]``)."""
    layout = ClipLayout.of(ground_truth)
    frames = _frames_by_clip(spec, ground_truth, steps, outputs, layout, untracked, source or "ground truth")
    tags = _clip_tags(ground_truth, layout)
    clips = tuple(
        ClipVerdicts(video, stratum_of(tags.get(video, {}), STRATA), tuple(
            judge_clip(spec, track_metrics(truth[video], by_clip[video].tracks, iou_threshold=iou_threshold)
                       if by_clip[video].has_ids else None, None if frames is None else frames[k][video])
            for k, by_clip in enumerate(steps)))
        for video in truth)
    return ClipAcceptance(spec, tuple(name for name, _ in outputs), clips)


def _frames_by_clip(spec: ClipAcceptanceSpec, ground_truth: dict[str, Any], steps: Sequence[dict[int, StepTracks]],
                    outputs: Sequence[tuple[str, StepOutput]], layout: ClipLayout, untracked: Untracked,
                    source: str) -> list[dict[int, np.ndarray]] | None:
    """Per step, per clip: each frame's acceptance under the frame rules (None without frame rules)."""
    if spec.frames is None:
        return None
    manual = parse_ground_truth(ground_truth, source)
    video = np.array([layout.place[int(i)][0] for i in manual.images.ids], dtype=np.int64)
    out = []
    for (name, output), by_clip in zip(outputs, steps, strict=True):
        drop = untracked == "drop" and any(s.has_ids for s in by_clip.values())
        accepted = frame_acceptance(spec.frames, _automation(name, output, manual, drop), manual)
        out.append({v: accepted[video == v] for v in layout.lengths})
    return out


def _automation(name: str, output: StepOutput, manual: Annotations, drop_untracked: bool) -> Annotations:
    """A step's COCO results as the comparator reads them; failed frames have no boxes, and boxes without a
    track id are left out when the evaluation leaves them out of the step's tracks."""
    doc = to_coco_results([r for r in output.results if r.ok])
    if drop_untracked:
        doc["annotations"] = [a for a in doc["annotations"] if "track_id" in a]
    return parse_automation(doc, f"step {name}", manual)


def _clip_tags(ground_truth: dict[str, Any], layout: ClipLayout) -> dict[int, dict[str, Any]]:
    tags: dict[int, dict[str, Any]] = {}
    for image in ground_truth.get("images", []):
        tags.setdefault(layout.place[int(image["id"])][0], image.get("tags") or {})
    return tags


def render_acceptance(acc: ClipAcceptance) -> list[str]:
    """Per clip a line per step (accepted, or the reasons), then the share of clips accepted per step, overall and
    per stratum."""
    lines = [f"clip acceptance under {_describe(acc.spec)}"]
    for clip in acc.clips:
        lines.append(f"clip {clip.video_id} ({clip.stratum})")
        lines += [f"  {name:<12}{_verdict(j)}" for name, j in zip(acc.steps, clip.judgements, strict=True)]
    width = max(len(s) for s in ("overall", *acc.strata)) + 2
    lines += ["", "clips accepted per step", f"  {'':<{width}}" + "".join(f"{s:>14}" for s in acc.steps)]
    for label, stratum in (("overall", None), *((s, s) for s in acc.strata)):
        cells = "".join(f"{_share(k, n):>14}" for k, n in acc.tally(stratum))
        lines.append(f"  {label:<{width}}{cells}")
    return lines


def _verdict(j: ClipJudgement) -> str:
    told = any(r.startswith("frames accepted") for r in j.reasons)
    frames = "" if j.frames is None or told else f" [frames {j.frames_accepted}/{j.frames}]"
    return ("accepted" if j.accepted else "rejected: " + "; ".join(j.reasons)) + frames


def _share(accepted: int, clips: int) -> str:
    return f"{accepted}/{clips} ({100 * accepted / clips:.0f}%)" if clips else "-"


def _describe(spec: ClipAcceptanceSpec) -> str:
    rules = ", ".join(f"{k} {v}" for k, v in spec.tracks.to_dict().items()) or "no track rules"
    if spec.frames is None:
        return rules
    return f"{rules}; frame rules ({spec.frames.source}) on >= {100 * (spec.min_frames_accepted or 0):g}% of frames"
