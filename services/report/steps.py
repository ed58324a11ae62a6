"""A run of clips in its report: which step of the chain limits it, and a gallery per step.

The same for a replay and a streaming run (from its topic snapshots). The table puts each step's figures over
the compared clips (1/π-weighted where it says so), beside the same over every clip against person 1 when the
run knows it (a replay). Each step's gallery shows the frames of compared clips where that step introduced the
most of the final errors: the person's boxes beside that step's. A frame's share of a clip's attributed errors is
the difference of the attribution over the clip's first k + 1 and first k frames: matching and attribution run
frame by frame in order, so a later frame never changes an earlier one's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.tracking.attribution import StepTracks, attribute_chain
from services.engine.frames import Frame
from services.loop.compare_clips import IOU_THRESHOLD, person_tracks, step_tracks
from services.loop.messages import AutomationMessage, ManualAnnotation, StepClip
from services.loop.messages.clips import ClipFrame, StepVerdict
from services.report.gallery import Overlay, render_overlay
from services.report.html import Page

PER_STEP = 3  # gallery frames per step
Errors = tuple[int, int, int]  # misses, false positives, switches
Boxes = list[tuple[list[float], str]]
Picture = Callable[[ClipFrame], Frame | None]  # a clip's frame, rendered again (None: its pixels are gone)


@dataclass(frozen=True)
class ComparedClip:
    """A clip people annotated: the chain's output on it, the person's tracks, and each step's verdict."""

    machine: AutomationMessage
    person: ManualAnnotation
    verdicts: Sequence[StepVerdict]


def steps_table(page: Page, estimate: dict[str, Any], truth: dict[str, Any] | None = None) -> None:
    """Per step: accepted clips, own errors, attributed errors and shares; the truth beside them when known
    (``estimate`` and ``truth`` are :meth:`services.loop.step_shares.StepShares.to_dict`)."""
    page.subheading("Which step is limiting")
    known = "" if truth is None else (
        f"; {truth['limiting'] or 'none'} over all {truth['clips']} clips against person 1 (truth)")
    page.paragraph(
        f"Each final error of a compared clip is attributed to the step that introduced it; the shares add up to 1 "
        f"over the steps. Limiting step: {estimate['limiting'] or 'none'} (estimate from {estimate['clips']} "
        f"compared clips, 1/π-weighted){known}.")
    truths = [None] * len(estimate["steps"]) if truth is None else truth["steps"]
    rows = []
    for e, t in zip(estimate["steps"], truths, strict=True):
        row = [e["name"], f"{_pct(e['accepted_share'])} ({e['accepted']}/{e['clips']})"]
        row += [] if t is None else [_pct(t["accepted_share"])]
        row += [str(e["misses"]), str(e["false_positives"]), str(e["switches"]), str(e["attributed"]),
                _pct(e["share"]), _pct(e["weighted_share"])]
        rows.append(row + ([] if t is None else [_pct(t["share"])]))
    head = ["step", "clips accepted at step (1/π-weighted)"] + ([] if truth is None else ["true"])
    head += ["misses", "false positives", "ID switches", "final errors introduced", "share", "share (1/π-weighted)"]
    page.table(head + ([] if truth is None else ["true share"]), rows)


def step_galleries(page: Page, clips: Sequence[ComparedClip], picture: Picture, names: dict[int, str]) -> None:
    """Per step, the frames of compared clips where it introduced the most final errors."""
    by_frame: dict[str, list[list[Errors]]] = {}
    for j, name in enumerate(v.name for v in (clips[0].verdicts if clips else ())):
        ranked = sorted(clips, key=lambda c: -c.verdicts[j].attributed)
        worst = [c for c in ranked if c.verdicts[j].attributed > 0][:PER_STEP]
        page.subheading(f"Where {name} introduced the most errors (person green, {name} red)")
        if not worst:
            page.paragraph(f"{name} introduced none of the final errors of the compared clips.")
        for clip in worst:
            key = clip.machine.frame_id
            per_frame = by_frame.get(key) or by_frame.setdefault(key, frame_attribution(clip.machine, clip.person))
            k = max(range(len(per_frame)), key=lambda i: sum(per_frame[i][j]))
            _tile(page, picture, names, clip, j, k, per_frame[k][j])
    if not clips:
        page.paragraph("No compared clip has step verdicts to draw.")


def frame_attribution(m: AutomationMessage, person: ManualAnnotation) -> list[list[Errors]]:
    """Per frame of clip ``m``, per step: the final errors on that frame the step introduced."""
    assert m.clip is not None
    n = len(m.clip.frames)
    truth, steps = person_tracks(person, n), [step_tracks(s, n) for s in m.clip.steps]

    def upto(k: int) -> list[Errors]:
        chain = [StepTracks(s.name, s.tracks.select(s.tracks.frame < k), s.has_ids) for s in steps]
        a = attribute_chain(truth.select(truth.frame < k), chain, iou_threshold=IOU_THRESHOLD)
        return [(s.attributed.misses, s.attributed.false_positives, s.attributed.switches) for s in a.steps]

    totals = [upto(k) for k in range(n + 1)]
    return [[_minus(b, a) for a, b in zip(totals[k], totals[k + 1], strict=True)] for k in range(n)]


def _tile(page: Page, picture: Picture, names: dict[int, str], clip: ComparedClip, j: int, k: int,
          errors: Errors) -> None:
    m = clip.machine
    assert m.clip is not None
    at = m.clip.frames[k]
    frame = picture(at)
    if frame is None or frame.image is None or frame.image.ndim != 3 or frame.image.shape[2] != 3:
        page.paragraph(f"{m.frame_id}, frame {k}: its pixels could not be read again ({at.image}).")
        return
    step = m.clip.steps[j]
    caption = (f"{m.frame_id}, frame {k} (id {at.frame_id}): {step.name} introduced {sum(errors)} of the final "
               f"errors here ({errors[0]} missed, {errors[1]} extra, {errors[2]} ID switches)")
    overlay = Overlay(frame.image, _person_boxes(clip.person, k, names), _step_boxes(step, k, names))
    page.image(render_overlay(overlay), f"{step.name}: {m.frame_id} frame {k}", caption, gallery=True)


def _person_boxes(person: ManualAnnotation, k: int, names: dict[int, str]) -> Boxes:
    frame = next((f for f in person.clip_frames or () if f.frame_index == k), None)
    return [] if frame is None else [
        (list(o.geometry.value), f"{names.get(o.category_id, o.category_id)} #{o.track_id}") for o in frame.objects]


def _step_boxes(step: StepClip, k: int, names: dict[int, str]) -> Boxes:
    """The step's boxes on frame ``k`` as the comparator reads them (a step with ids: tracked boxes only)."""
    frame = next((f for f in step.frames if f.frame_index == k), None)
    if frame is None:
        return []
    return [(list(g.value), f"{names.get(c, c)}" + (f" #{t}" if step.has_ids else ""))
            for g, c, t in zip(frame.geometries, frame.category_ids, frame.track_ids, strict=True)
            if t >= 0 or not step.has_ids]


def _minus(b: Errors, a: Errors) -> Errors:
    return (b[0] - a[0], b[1] - a[1], b[2] - a[2])


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"
