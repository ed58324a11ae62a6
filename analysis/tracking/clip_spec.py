"""When may a clip ship? Track rules on its tracking metrics plus, optionally, the frame quality spec on each of
its frames. Read from YAML/JSON::

    tracks: {max_id_switches: 2, min_idf1: 0.6}   # a TrackAcceptanceSpec (analysis/tracking/spec.py)
    frames: {min_height: 12, max_missed: 1}       # a QualitySpec (analysis/agreement/spec.py), or a name/path
    min_frames_accepted: 0.9                      # share of the clip's frames that must pass (default 1.0)

``frames`` as a string is resolved by the caller's ``frames_named`` (files and names are I/O: not here).
A frame passes exactly when the comparator accepts it (:func:`frame_acceptance`). A clip with no frames, or
where neither side has a detection, passes: nothing to disagree on (:meth:`TrackAcceptanceSpec.judge`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.agreement import QualitySpec
from analysis.annotations import Annotations, checks
from analysis.compare import Comparator, CompareOptions
from analysis.exceptions import InvalidInput
from analysis.tracking.exceptions import InvalidTrackSpec
from analysis.tracking.metrics import TrackMetrics
from analysis.tracking.spec import TrackAcceptanceSpec, spec_record

_KEYS = ("tracks", "frames", "min_frames_accepted")
FramesNamed = Callable[[str], QualitySpec]


@dataclass(frozen=True)
class ClipAcceptanceSpec:
    """Track rules and optional frame rules for one clip; see the module docstring for the file format.

    ``min_frames_accepted`` is set exactly when ``frames`` is (1.0 unless given)."""

    tracks: TrackAcceptanceSpec = field(default_factory=TrackAcceptanceSpec)
    frames: QualitySpec | None = None
    min_frames_accepted: float | None = None

    def __post_init__(self) -> None:
        if self.frames is None and self.min_frames_accepted is not None:
            raise InvalidTrackSpec("clip spec", "min_frames_accepted", "needs frame rules ('frames')")
        if self.frames is not None and self.min_frames_accepted is None:
            object.__setattr__(self, "min_frames_accepted", 1.0)

    @classmethod
    def from_dict(cls, doc: Any, source: str = "clip spec", *,
                  frames_named: FramesNamed | None = None) -> ClipAcceptanceSpec:
        """A spec from a parsed YAML/JSON mapping; errors name the field (``tracks.min_idf1``,
        ``frames.max_missed``)."""
        if doc is None:
            return cls()
        rec = spec_record(doc, source, _KEYS)
        frames = _frames(rec.get("frames"), source, frames_named)
        share = rec.get("min_frames_accepted")
        if share is not None and frames is None:
            raise InvalidTrackSpec(source, "min_frames_accepted", "needs frame rules ('frames')")
        return cls(_tracks(rec.get("tracks"), source), frames, None if share is None else _share(share, source))

    def to_dict(self) -> dict[str, Any]:
        """The spec as :meth:`from_dict` reads it (frame rules written out in full)."""
        doc: dict[str, Any] = {"tracks": self.tracks.to_dict()}
        if self.frames is not None:
            doc.update(frames=self.frames.to_mapping(), min_frames_accepted=self.min_frames_accepted)
        return doc


@dataclass(frozen=True)
class ClipJudgement:
    """Whether a clip passes its spec, why not (one reason per broken rule, with value and limit), its track
    metrics (None: the output has no track ids) and its frames accepted of frames (None without frame rules)."""

    accepted: bool
    reasons: tuple[str, ...]
    metrics: TrackMetrics | None
    frames_accepted: int | None = None
    frames: int | None = None

    def to_dict(self) -> dict[str, Any]:
        m = self.metrics
        figures = None if m is None else {
            "id_switches": m.clear.num_switches, "fragmentations": m.clear.num_fragmentations,
            "idf1": m.identity.idf1, "mota": m.clear.mota, "hota": m.hota.hota}
        return {"accepted": self.accepted, "reasons": list(self.reasons), "metrics": figures,
                "frames_accepted": self.frames_accepted, "frames": self.frames}


def judge_clip(spec: ClipAcceptanceSpec, metrics: TrackMetrics | None,
               frames_accepted: npt.ArrayLike | None = None) -> ClipJudgement:
    """Judge one clip: ``metrics`` its tracking metrics (None when the output carries no track ids: then any
    track rule fails), ``frames_accepted`` one flag per frame from :func:`frame_acceptance` (needed exactly
    when the spec has frame rules)."""
    reasons = _track_reasons(spec.tracks, metrics)
    if spec.frames is None:
        return ClipJudgement(not reasons, reasons, metrics)
    if frames_accepted is None:
        raise InvalidInput("judge_clip", "frames_accepted", "the spec has frame rules: give each frame's verdict")
    flags = np.asarray(frames_accepted, dtype=bool).reshape(-1)
    passed, total = int(flags.sum()), len(flags)
    reasons += _share_reason(passed, total, spec.min_frames_accepted or 0.0)
    return ClipJudgement(not reasons, reasons, metrics, passed, total)


def frame_acceptance(spec: QualitySpec, automation: Annotations, manual: Annotations) -> npt.NDArray[np.bool_]:
    """Each frame's acceptance under ``spec``, exactly as the comparator judges frames (one flag per frame of
    ``manual``)."""
    accepted: npt.NDArray[np.bool_] = Comparator(CompareOptions(spec=spec)).frame_agreement(
        automation, manual).accepted
    return accepted


def _track_reasons(tracks: TrackAcceptanceSpec, metrics: TrackMetrics | None) -> tuple[str, ...]:
    if metrics is not None:
        return tracks.judge(metrics)[1]
    limits = tracks.to_dict()
    return (f"no track ids to judge {', '.join(limits)} on",) if limits else ()


def _share_reason(passed: int, total: int, minimum: float) -> tuple[str, ...]:
    if total == 0 or passed / total >= minimum:
        return ()
    return (f"frames accepted {passed / total:.4f} ({passed}/{total}) < min_frames_accepted {minimum}",)


def _tracks(doc: Any, source: str) -> TrackAcceptanceSpec:
    try:
        return TrackAcceptanceSpec.from_dict(doc, source)
    except InvalidInput as exc:
        raise InvalidTrackSpec(source, _within("tracks", exc.where), exc.problem) from None


def _frames(doc: Any, source: str, frames_named: FramesNamed | None) -> QualitySpec | None:
    if doc is None:
        return None
    if isinstance(doc, str):
        if frames_named is None:
            raise InvalidTrackSpec(source, "frames", f"{doc!r} names a spec, but no loader was given: write the "
                                   "frame rules inline")
        try:
            return frames_named(doc)
        except InvalidInput as exc:
            raise InvalidTrackSpec(source, "frames", str(exc)) from None
    try:
        return QualitySpec.from_mapping(checks.as_record(doc, source, "frames"), source)
    except InvalidInput as exc:
        raise InvalidTrackSpec(source, _within("frames", exc.where.removeprefix("frames")), exc.problem) from None


def _share(value: Any, source: str) -> float:
    try:
        return checks.number(value, source, "min_frames_accepted", minimum=0.0, maximum=1.0)
    except InvalidInput as exc:
        raise InvalidTrackSpec(source, exc.where, exc.problem) from None


def _within(key: str, where: str) -> str:
    where = where.lstrip(".")
    return f"{key}.{where}" if where else key
