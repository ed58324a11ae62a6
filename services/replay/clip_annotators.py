"""Simulated people who annotate a whole clip with their own track ids: ground truth through a video error model.

A sampled clip becomes a clip task, and one person labels every frame of it, linking boxes into tracks.
The person is the frame annotators' (:mod:`services.replay.annotators`) with the mistakes video adds
(:class:`~services.replay.clip_model.ClipErrorModel`): misses decided per track by size and occlusion,
interpolated box jitter, a class set once per track, a new id after a long occlusion, an id swap between
two crossing objects of one class, and tracks started late or ended early. Random draws depend only on
(seed, clip, person, truth track) — the crossing swaps on (seed, clip, person) — so an annotation is
reproduced exactly, and two people of one clip (a consensus copy) disagree as two people would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.exceptions import InvalidInput
from analysis.tracking import Tracks
from services.replay.clip_model import ClipErrorModel
from services.replay.clip_person import Box, DrawnBox, draw_track, person_rng
from services.replay.clip_truth import ClipTruth, crossings

Piece = tuple[int, int]  # (truth track, piece): one id as the person drew it, before the ids are numbered


@dataclass(frozen=True)
class ClipObject:
    """One box a person drew: COCO ``bbox`` (x, y, width, height), category, attributes and the person's track id."""

    track_id: int
    bbox: Box
    category_id: int
    attributes: dict[str, Any]


@dataclass(frozen=True)
class ClipFrame:
    """The person's boxes on one frame of the clip (``image_id`` None where the truth has no image)."""

    frame_index: int
    image_id: int | None
    objects: tuple[ClipObject, ...]


@dataclass(frozen=True)
class ClipAnnotation:
    """One person's annotation of every frame of clip ``video_id``; track ids are 1.. in order of first box."""

    video_id: int
    person: int
    frames: tuple[ClipFrame, ...]

    @property
    def num_frames(self) -> int:
        return len(self.frames)


def annotate_clip(truth: dict[str, Any] | ClipTruth, video_id: int, *, seed: int, person: int,
                  model: ClipErrorModel | None = None) -> ClipAnnotation:
    """Person ``person``'s annotation of clip ``video_id`` of ``truth`` (a COCO-video document, or the clip).

    Raises ``InvalidInput`` when the document has no such clip.
    """
    model = model or ClipErrorModel()
    clip = truth if isinstance(truth, ClipTruth) else ClipTruth.of(truth, video_id)
    if clip.video_id != video_id:
        raise InvalidInput("clip annotation", "video_id", f"got clip {clip.video_id}, asked for {video_id}")
    drawn = {t: draw_track(boxes, model=model, rng=person_rng(seed, video_id, person, f"track-{t}"),
                           names=clip.names) for t, boxes in clip.tracks.items()}
    pieces = {(t, d.frame): (t, d.piece) for t, boxes in drawn.items() for d in boxes}
    _swap_crossings(clip, pieces, model, person_rng(seed, video_id, person, "swaps"))
    return _annotation(clip, person, drawn, pieces)


def _swap_crossings(clip: ClipTruth, pieces: dict[tuple[int, int], Piece], model: ClipErrorModel,
                    rng: np.random.Generator) -> None:
    """Swap the ids of crossing tracks after the frame they first overlap (one draw per crossing)."""
    for t, u, frame in crossings(clip, model.crossing_iou):
        if rng.random() >= model.id_swap:
            continue
        a, b = _piece_at(pieces, t, frame), _piece_at(pieces, u, frame)
        if a is None or b is None:
            continue
        for key, piece in pieces.items():
            if key[1] > frame and piece in (a, b):
                pieces[key] = b if piece == a else a


def _piece_at(pieces: dict[tuple[int, int], Piece], track: int, frame: int) -> Piece | None:
    """The id the person last gave ``track`` at or before ``frame``."""
    earlier = [f for t, f in pieces if t == track and f <= frame]
    return pieces[(track, max(earlier))] if earlier else None


def _annotation(clip: ClipTruth, person: int, drawn: dict[int, list[DrawnBox]],
                pieces: dict[tuple[int, int], Piece]) -> ClipAnnotation:
    first: dict[Piece, int] = {}
    for (_, frame), piece in pieces.items():
        first[piece] = min(frame, first.get(piece, frame))
    number = {piece: k + 1 for k, piece in enumerate(sorted(first, key=lambda p: (first[p], p)))}
    per_frame: list[list[ClipObject]] = [[] for _ in range(clip.num_frames)]
    for t, boxes in drawn.items():
        for d in boxes:
            per_frame[d.frame].append(ClipObject(number[pieces[(t, d.frame)]], d.bbox, d.category_id, d.attributes))
    frames = tuple(ClipFrame(k, clip.image_ids[k], tuple(sorted(objs, key=lambda o: o.track_id)))
                   for k, objs in enumerate(per_frame))
    return ClipAnnotation(clip.video_id, person, frames)


def clip_tracks_of(annotation: ClipAnnotation) -> Tracks:
    """The person's boxes as :class:`~analysis.tracking.Tracks` (with a category column), the comparator's view."""
    rows = [(f.frame_index, o) for f in annotation.frames for o in f.objects]
    return Tracks.from_arrays(num_frames=annotation.num_frames, frame=np.array([k for k, _ in rows], np.int64),
                              track_id=np.array([o.track_id for _, o in rows], np.int64),
                              boxes=np.array([o.bbox for _, o in rows], np.float64).reshape(len(rows), 4),
                              category=np.array([o.category_id for _, o in rows], np.int64),
                              source=f"person {annotation.person} clip {annotation.video_id}")
