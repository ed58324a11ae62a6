"""A chain run and its ground truth as tracks per clip, what :mod:`analysis.tracking` compares.

Clips and frame places come from the ground truth (COCO-video: each image's ``video_id`` and
``frame_index``; an image without them belongs to one clip of the whole source at its place in ``images``),
and a step's frames are placed by frame id. A clip's length is its largest frame index + 1.

A step *has ids* when some frame it annotated carries track ids (the track step and every step after it).
Boxes such a step left with track id -1 (a track that never started) are, by default (``untracked="drop"``),
not part of its tracks: the tracker declined them, so a true object only they cover is a miss the tracker
made, and a false box only they make is one it removed (MOT trackers report confirmed tracks only). With
``untracked="singleton"`` each such box is a track of its own instead (it can match on its frame, never
continue a track): the view of a delivery that ships boxes without ids. A step without ids is judged on
detection only. A frame that failed has no boxes. Matching is class-agnostic, as the tracking metrics are.

Both sides carry each box's class (``category``); the ground truth its ``attributes.visibility`` (-1, MOTChallenge's
"unknown", where an annotation has none), a step its scores (``confidence``): what MOTChallenge files hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from analysis.exceptions import InvalidInput
from analysis.tracking import Tracks
from analysis.tracking.attribution import StepTracks
from services.engine.chain.data import NO_VIDEO, FrameInfo, StepOutput

Untracked = Literal["drop", "singleton"]
UNTRACKED: tuple[Untracked, ...] = ("drop", "singleton")
Row = tuple[int, int, list[float], int, float]  # frame index, track id, box, category, visibility or score


@dataclass(frozen=True)
class ClipLayout:
    """Where each ground-truth image sits: frame id -> (clip, frame index), and each clip's length."""

    place: dict[int, tuple[int, int]]
    lengths: dict[int, int]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ClipLayout:
        place = {int(im["id"]): (int(im.get("video_id", NO_VIDEO)), int(im.get("frame_index", i)))
                 for i, im in enumerate(doc.get("images", []))}
        return cls.placed(place)

    @classmethod
    def of_frames(cls, frames: Iterable[FrameInfo]) -> ClipLayout:
        """The layout a step's own frames give (no ground truth needed): their clips and places."""
        return cls.placed({f.frame_id: (f.video_id, f.frame_index) for f in frames})

    @classmethod
    def placed(cls, place: dict[int, tuple[int, int]]) -> ClipLayout:
        lengths: dict[int, int] = {}
        for video, index in place.values():
            lengths[video] = max(lengths.get(video, 0), index + 1)
        return cls(place, dict(sorted(lengths.items())))


def truth_annotations(doc: dict[str, Any], layout: ClipLayout) -> dict[int, list[tuple[int, int, dict[str, Any]]]]:
    """Per clip, each ground-truth annotation as (frame index, track id, the annotation), crowd boxes left out;
    an annotation without ``track_id`` is a track of its own (a negative id)."""
    rows: dict[int, list[tuple[int, int, dict[str, Any]]]] = {v: [] for v in layout.lengths}
    for k, a in enumerate(doc.get("annotations", [])):
        if a.get("iscrowd"):
            continue
        video, index = layout.place[int(a["image_id"])]
        rows[video].append((index, int(a["track_id"]) if "track_id" in a else -1 - k, a))
    return rows


def truth_tracks(doc: dict[str, Any], layout: ClipLayout, source: str) -> dict[int, Tracks]:
    """The ground truth's boxes per clip, by ``track_id`` (an annotation without one is a track of its own)."""
    return {v: _tracks(layout.lengths[v], [(index, track, list(a["bbox"]), int(a["category_id"]),
                                            float((a.get("attributes") or {}).get("visibility", -1.0)))
                                           for index, track, a in rows], f"{source} clip {v}", "visibility")
            for v, rows in truth_annotations(doc, layout).items()}


def step_tracks(name: str, output: StepOutput, layout: ClipLayout, *,
                untracked: Untracked = "drop") -> dict[int, StepTracks]:
    """One step's output per clip of the ground truth (clips it has no frame of are empty)."""
    has_ids = any(r.ok and len(r.track_ids) for r in output.results)
    rows: dict[int, list[Row]] = {v: [] for v in layout.lengths}
    fresh = 0
    for info, result in zip(output.frames, output.results, strict=True):
        if info.frame_id not in layout.place:
            raise InvalidInput(name, f"frame {info.frame_id}", "the ground truth has no such image")
        if not result.ok:
            continue
        video, index = layout.place[info.frame_id]
        ids = result.track_ids if len(result.track_ids) else np.full(len(result.boxes), -1)
        boxes = zip(result.boxes.reshape(-1, 4), ids, result.category_ids, result.scores, strict=True)
        for box, track, category, score in boxes:
            if track < 0 and has_ids and untracked == "drop":
                continue
            fresh += int(track < 0)
            rows[video].append((index, int(track) if track >= 0 else -fresh, box.tolist(), int(category), float(score)))
    return {v: StepTracks(name, _tracks(layout.lengths[v], r, f"step {name} clip {v}", "confidence"), has_ids)
            for v, r in rows.items()}


def _tracks(num_frames: int, rows: Sequence[Row], source: str, value: Literal["visibility", "confidence"]) -> Tracks:
    """Tracks of ``rows``; their last value is the ``value`` column."""
    values = np.array([r[4] for r in rows], dtype=np.float64)
    return Tracks.from_arrays(num_frames=num_frames, frame=np.array([r[0] for r in rows], dtype=np.int64),
                              track_id=np.array([r[1] for r in rows], dtype=np.int64),
                              boxes=np.array([r[2] for r in rows], dtype=np.float64).reshape(len(rows), 4),
                              category=np.array([r[3] for r in rows], dtype=np.int64),
                              visibility=values if value == "visibility" else None,
                              confidence=values if value == "confidence" else None, source=source)
