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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from analysis.exceptions import InvalidInput
from analysis.tracking import Tracks
from analysis.tracking.attribution import StepTracks
from services.engine.chain.data import NO_VIDEO, StepOutput

Untracked = Literal["drop", "singleton"]
UNTRACKED: tuple[Untracked, ...] = ("drop", "singleton")


@dataclass(frozen=True)
class ClipLayout:
    """Where each ground-truth image sits: frame id -> (clip, frame index), and each clip's length."""

    place: dict[int, tuple[int, int]]
    lengths: dict[int, int]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ClipLayout:
        place = {int(im["id"]): (int(im.get("video_id", NO_VIDEO)), int(im.get("frame_index", i)))
                 for i, im in enumerate(doc.get("images", []))}
        lengths: dict[int, int] = {}
        for video, index in place.values():
            lengths[video] = max(lengths.get(video, 0), index + 1)
        return cls(place, dict(sorted(lengths.items())))


def truth_tracks(doc: dict[str, Any], layout: ClipLayout, source: str) -> dict[int, Tracks]:
    """The ground truth's boxes per clip, by ``track_id`` (an annotation without one is a track of its own)."""
    rows: dict[int, list[tuple[int, int, list[float]]]] = {v: [] for v in layout.lengths}
    for k, a in enumerate(doc.get("annotations", [])):
        if a.get("iscrowd"):
            continue
        video, index = layout.place[int(a["image_id"])]
        rows[video].append((index, int(a["track_id"]) if "track_id" in a else -1 - k, list(a["bbox"])))
    return {v: _tracks(layout.lengths[v], r, f"{source} clip {v}") for v, r in rows.items()}


def step_tracks(name: str, output: StepOutput, layout: ClipLayout, *,
                untracked: Untracked = "drop") -> dict[int, StepTracks]:
    """One step's output per clip of the ground truth (clips it has no frame of are empty)."""
    has_ids = any(r.ok and len(r.track_ids) for r in output.results)
    rows: dict[int, list[tuple[int, int, list[float]]]] = {v: [] for v in layout.lengths}
    fresh = 0
    for info, result in zip(output.frames, output.results, strict=True):
        if info.frame_id not in layout.place:
            raise InvalidInput(name, f"frame {info.frame_id}", "the ground truth has no such image")
        if not result.ok:
            continue
        video, index = layout.place[info.frame_id]
        ids = result.track_ids if len(result.track_ids) else np.full(len(result.boxes), -1)
        for box, track in zip(result.boxes.reshape(-1, 4), ids, strict=True):
            if track < 0 and has_ids and untracked == "drop":
                continue
            fresh += int(track < 0)
            rows[video].append((index, int(track) if track >= 0 else -fresh, box.tolist()))
    return {v: StepTracks(name, _tracks(layout.lengths[v], r, f"step {name} clip {v}"), has_ids)
            for v, r in rows.items()}


def _tracks(num_frames: int, rows: Sequence[tuple[int, int, list[float]]], source: str) -> Tracks:
    return Tracks.from_arrays(num_frames=num_frames, frame=np.array([r[0] for r in rows], dtype=np.int64),
                              track_id=np.array([r[1] for r in rows], dtype=np.int64),
                              boxes=np.array([r[2] for r in rows], dtype=np.float64).reshape(len(rows), 4),
                              source=source)
