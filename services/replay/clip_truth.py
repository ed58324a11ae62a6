"""One clip of a COCO-video ground truth, as the simulated clip annotator reads it: tracks of boxes in frame order.

Clips and frame places follow :class:`~services.engine.chain.clip_tracks.ClipLayout` (an image's
``video_id`` and ``frame_index``; a clip is as long as its largest frame index + 1), so a person's tracks
and :func:`~services.engine.chain.clip_tracks.truth_tracks` cover the same frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from analysis.exceptions import InvalidInput
from services.engine.chain.clip_tracks import ClipLayout, truth_annotations


@dataclass(frozen=True)
class TruthBox:
    """One ground-truth box of a track."""

    frame: int  # frame index in the clip
    bbox: tuple[float, float, float, float]
    category_id: int
    attributes: dict[str, Any]

    @property
    def visibility(self) -> float:
        return float(self.attributes.get("visibility", 1.0))


@dataclass(frozen=True)
class ClipTruth:
    """The ground truth of clip ``video_id``: its frames' image ids and its tracks (boxes in frame order)."""

    video_id: int
    image_ids: tuple[int | None, ...]  # by frame index; None where the document has no image
    tracks: dict[int, tuple[TruthBox, ...]]  # truth track id -> boxes
    names: dict[int, str]  # category id -> name

    @property
    def num_frames(self) -> int:
        return len(self.image_ids)

    @classmethod
    def of(cls, doc: dict[str, Any], video_id: int) -> ClipTruth:
        """Clip ``video_id`` of a COCO-video document; crowd boxes are left out, as the tracking metrics do."""
        layout = ClipLayout.of(doc)
        if video_id not in layout.lengths:
            raise InvalidInput("clip ground truth", "video_id", f"the document has no clip {video_id}")
        image_ids: list[int | None] = [None] * layout.lengths[video_id]
        for image_id, (video, index) in layout.place.items():
            if video == video_id:
                image_ids[index] = image_id
        tracks: dict[int, list[TruthBox]] = {}
        for index, track, a in truth_annotations(doc, layout)[video_id]:
            x, y, w, h = (float(v) for v in a["bbox"])
            tracks.setdefault(track, []).append(TruthBox(index, (x, y, w, h), int(a["category_id"]),
                                                         dict(a.get("attributes") or {})))
        names = {int(c["id"]): str(c["name"]) for c in doc.get("categories", [])}
        return cls(video_id, tuple(image_ids), {t: tuple(sorted(b, key=lambda x: x.frame))
                                                for t, b in sorted(tracks.items())}, names)


def occlusions(boxes: tuple[TruthBox, ...], occluded_below: float) -> Iterator[tuple[int, int]]:
    """Each occlusion inside a track as (its length in frames, the index in ``boxes`` of the box after it):
    a run of frames where the track has no box or only a box less visible than ``occluded_below``."""
    run = 0
    for i, box in enumerate(boxes):
        if i and box.frame - boxes[i - 1].frame > 1:
            run += box.frame - boxes[i - 1].frame - 1
        if box.visibility < occluded_below:
            run += 1
        elif run:
            yield run, i
            run = 0


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two COCO boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def crossings(truth: ClipTruth, min_iou: float) -> Iterator[tuple[int, int, int]]:
    """Pairs of tracks of one class whose boxes overlap (IoU above 0 and at least ``min_iou``) on some frame,
    as (track, other track, first such frame), in track order."""
    ids = list(truth.tracks)
    at = {t: {b.frame: b for b in truth.tracks[t]} for t in ids}
    for i, t in enumerate(ids):
        for u in ids[i + 1:]:
            if truth.tracks[t][0].category_id != truth.tracks[u][0].category_id:
                continue
            shared = sorted(set(at[t]) & set(at[u]))
            hit = next((f for f in shared if _overlap(at[t][f].bbox, at[u][f].bbox, min_iou)), None)
            if hit is not None:
                yield t, u, hit


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float], min_iou: float) -> bool:
    value = iou(a, b)
    return value > 0 and value >= min_iou
