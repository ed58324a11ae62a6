"""Which step of an automation chain (detect -> track -> post-process) made the final output's errors?

Given one clip's truth (ground truth, or the people's annotation) and every step's output in chain order, each
step is matched to the truth on its own (:mod:`analysis.tracking.step_errors`: CLEAR-MOT matching for a step
with track ids, frame-by-frame matching for one without), at one IoU threshold. An *error* is a miss (a truth
object unmatched on a frame), a false positive (a box unmatched on its frame) or an ID switch (a truth object
matched on a frame to another hypothesis track than the one it was last matched to). The rules:

- **The same error in two consecutive steps.** A miss: the same truth row (object and frame) is unmatched in
  both. A false positive: the two boxes are on the same frame with IoU >= the threshold, linked one to one
  (each frame links as many as it can, then the closest). An ID switch: the same truth row is a switch in
  both; only steps with track ids have switches, and for them "the step before" is the previous step with ids.
- **Introduced by step k**: errors of step k that are not the same error as one of the step before (all of the
  first step's errors). **Removed by step k**: errors of the step before that no error of step k continues.
  So a step's own errors = the previous step's + introduced - removed, for every type.
- **Attributed to step k** (each final error to exactly one step): the step that introduced it, following the
  same-error links back from the final output: a final miss belongs to the first step of the unbroken run of
  steps up to the last in which that row is unmatched (missing after detect -> detect; matched after detect,
  dropped by track -> track; dropped by post -> post); a final false positive to the step where its chain of
  linked boxes begins (a box born in post, such as a wrong interpolation, -> post); a final switch to the first
  id step of the unbroken run of id steps that have it (a final step without ids has no switches to attribute).
- **Shares**: a step's attributed errors over all final errors, every type weighing one as in MOTA. The
  attributed counts add up to the final errors exactly, so the shares add up to 1 (to float rounding) when
  there are errors. The **limiting step** has the largest share; ties go to the earliest step; None when the
  final output has no errors.

The final step's misses, false positives and switches are :func:`~analysis.tracking.track_metrics`' CLEAR counts
of the final output (when it has ids). Results add up over clips (:mod:`analysis.tracking.attribution_results`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.exceptions import AnalysisFailed, ShadowQAError
from analysis.tracking.attribution_results import ChainAttribution, ErrorCounts, StepAttribution
from analysis.tracking.columns import BoolArray, IntArray
from analysis.tracking.exceptions import ClipMismatch, InvalidMetricParameter
from analysis.tracking.model import Tracks
from analysis.tracking.step_errors import StepErrors, link_false_positives, step_errors


@dataclass(frozen=True)
class StepTracks:
    """One step's output on the clip. Without ``has_ids`` its track ids are ignored (detection only)."""

    name: str
    tracks: Tracks
    has_ids: bool = True


def attribute_chain(truth: Tracks, steps: Sequence[StepTracks], *, iou_threshold: float = 0.5) -> ChainAttribution:
    """Per step its agreement with ``truth`` and the final errors it introduced (rules: the module docstring)."""
    _check(truth, steps, iou_threshold)
    try:
        errors = [step_errors(truth, s.tracks, has_ids=s.has_ids, iou_threshold=iou_threshold) for s in steps]
        return _attribute(steps, errors, truth.num_frames, float(iou_threshold))
    except ShadowQAError:
        raise
    except Exception as exc:  # a defect, not bad input: say what was being done
        raise AnalysisFailed(f"attributing the errors of a {len(steps)}-step chain on a {truth.num_frames}-frame "
                             f"clip ({len(truth)} truth detections) failed: {exc!r}") from exc


def _check(truth: Tracks, steps: Sequence[StepTracks], iou_threshold: float) -> None:
    if not steps:
        raise InvalidMetricParameter("attribute_chain", "steps", "needs at least one step")
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise InvalidMetricParameter("attribute_chain", "steps", f"step names must be unique, got {names}")
    if not 0.0 <= iou_threshold <= 1.0:
        raise InvalidMetricParameter("attribute_chain", "iou_threshold", f"must be in [0, 1], got {iou_threshold!r}")
    for s in steps:
        if s.tracks.num_frames != truth.num_frames:
            raise ClipMismatch("tracks", "num_frames", f"the truth has {truth.num_frames} frames, step {s.name!r} "
                                                       f"{s.tracks.num_frames}")


def _attribute(steps: Sequence[StepTracks], errors: list[StepErrors], num_frames: int,
               iou_threshold: float) -> ChainAttribution:
    n = len(steps)
    misses = _by_rows([e.missed for e in errors], list(range(n)), n, final=True)
    ids = [k for k, s in enumerate(steps) if s.has_ids]
    switches = _by_rows([errors[k].switched for k in ids], ids, n, final=steps[-1].has_ids)
    false_positives = _false_positives(errors, num_frames, iou_threshold)
    return ChainAttribution(tuple(
        StepAttribution(s.name, errors[k].figures,
                        *(ErrorCounts(misses[i][k], false_positives[i][k], switches[i][k]) for i in range(3)))
        for k, s in enumerate(steps)), iou_threshold)


Tally = tuple[list[int], list[int], list[int]]  # per step: introduced, removed, attributed


def _by_rows(present: list[BoolArray], at: list[int], n: int, *, final: bool) -> Tally:
    """Errors keyed by truth row, present in the steps ``at`` (in order): introduced, removed, and (if the last
    of them is the final step: ``final``) the origin of each of its errors."""
    introduced, removed, attributed = [0] * n, [0] * n, [0] * n
    origin: IntArray = np.zeros(0, np.int64)
    before: BoolArray | None = None
    for k, now in zip(at, present, strict=True):
        if before is None:
            introduced[k] = int(np.count_nonzero(now))
            origin = np.full(len(now), k, np.int64)
        else:
            introduced[k] = int(np.count_nonzero(now & ~before))
            removed[k] = int(np.count_nonzero(before & ~now))
            origin = np.where(now & before, origin, k)
        before = now
    if final and before is not None:
        _count(origin[before], attributed)
    return introduced, removed, attributed


def _false_positives(errors: list[StepErrors], num_frames: int, iou_threshold: float) -> Tally:
    """False positives followed box to box (:func:`link_false_positives`) from step to step."""
    n = len(errors)
    introduced, removed, attributed = [0] * n, [0] * n, [0] * n
    origin = np.zeros(len(errors[0].fp_frame), np.int64)
    introduced[0] = len(origin)
    for k in range(1, n):
        link = link_false_positives(errors[k - 1], errors[k], num_frames, iou_threshold)
        linked = link >= 0
        introduced[k] = int(np.count_nonzero(~linked))
        removed[k] = len(errors[k - 1].fp_frame) - int(np.count_nonzero(linked))
        origin = np.where(linked, origin[np.maximum(link, 0)], k) if len(origin) else np.full(len(link), k)
    _count(origin, attributed)
    return introduced, removed, attributed


def _count(origin: IntArray, into: list[int]) -> None:
    for k, c in zip(*np.unique(origin, return_counts=True), strict=True):
        into[int(k)] += int(c)
