"""What one simulated person draws for one ground-truth track: which boxes, where, which class, which id piece.

Every track draws the same number of random values whatever the rates, so raising one rate changes only
the mistake it governs (a rate of 0 leaves every other decision as it was).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.replay.annotators import SIMILAR
from services.replay.clip_model import ClipErrorModel
from services.replay.clip_truth import TruthBox, occlusions

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class DrawnBox:
    """A box the person drew for a truth track; ``piece`` counts the new ids the person started on the track."""

    frame: int
    piece: int
    bbox: Box
    category_id: int
    attributes: dict[str, Any]


def person_rng(seed: int, video_id: int, person: int, what: str) -> np.random.Generator:
    """The random stream of one decision group of (seed, clip, person): blake2b as the frame annotators'."""
    digest = hashlib.blake2b(f"{seed}:clip-{video_id}:{person}:{what}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def draw_track(boxes: tuple[TruthBox, ...], *, model: ClipErrorModel, rng: np.random.Generator,
               names: dict[int, str]) -> list[DrawnBox]:
    """The boxes one person draws for one truth track (``boxes`` in frame order), in frame order."""
    u_size, u_hidden, u_late, u_early, r_late, r_early, u_class = rng.random(7)
    split_draws, flips = rng.random(len(boxes)), rng.random(len(boxes))
    errors = rng.normal(0.0, 1.0, (len(boxes), 4)) * model.box_jitter
    kept = _kept(boxes, model, u_size, u_hidden, (u_late, r_late), (u_early, r_early))
    if not kept:
        return []
    splits = {i for run, i in occlusions(boxes, model.occluded_below)
              if run >= model.occlusion_frames and split_draws[i] < model.split_after_occlusion}
    category = _category(boxes[0].category_id, names, u_class < model.class_confusion)
    relative = _interpolated(np.array([boxes[i].frame for i in kept]), errors[kept], model.keyframe_every)
    return [DrawnBox(boxes[i].frame, sum(s <= i for s in splits), _jittered(boxes[i].bbox, e), category,
                     _attributes(boxes[i].attributes, flips[i] < model.attribute_flip))
            for i, e in zip(kept, relative, strict=True)]


def _kept(boxes: tuple[TruthBox, ...], model: ClipErrorModel, u_size: float, u_hidden: float,
          late: tuple[float, float], early: tuple[float, float]) -> list[int]:
    """Indices of the boxes drawn: from the first to the last noticeable one, trimmed, less occluded ones left out."""
    noticeable = [i for i, b in enumerate(boxes) if u_size >= model.miss_rate(b.bbox[3])]
    if not noticeable:
        return []
    first, last = noticeable[0], noticeable[-1]
    if late[0] < model.late_start:
        first += 1 + int(late[1] * model.max_trim) if model.max_trim else 0
    if early[0] < model.early_end:
        last -= 1 + int(early[1] * model.max_trim) if model.max_trim else 0
    drop_hidden = u_hidden < model.miss_occluded
    return [i for i in range(first, last + 1) if not (drop_hidden and boxes[i].visibility < model.occluded_below)]


def _interpolated(frames: np.ndarray, errors: np.ndarray, every: int) -> np.ndarray:
    """Errors drawn on keyframes (every ``every``-th drawn box and the last), linearly interpolated by frame."""
    keys = sorted({*range(0, len(frames), every), len(frames) - 1})
    return np.stack([np.interp(frames, frames[keys], errors[keys, k]) for k in range(4)], axis=1)


def _jittered(bbox: Box, error: np.ndarray) -> Box:
    """``bbox`` with each edge moved by ``error`` (shares of the width or height), as the frame annotators do."""
    x, y, w, h = bbox
    x1, y1 = x + error[0] * w, y + error[1] * h
    x2, y2 = x + w + error[2] * w, y + h + error[3] * h
    return round(x1, 1), round(y1, 1), round(max(x2 - x1, 1.0), 1), round(max(y2 - y1, 1.0), 1)


def _category(category_id: int, names: dict[int, str], confuse: bool) -> int:
    name = names.get(category_id, "")
    if not confuse or name not in SIMILAR:
        return category_id
    return next((cid for cid, n in names.items() if n == SIMILAR[name]), category_id)


def _attributes(attributes: dict[str, Any], flip: bool) -> dict[str, Any]:
    out = dict(attributes)
    if flip and "occluded" in out:
        out["occluded"] = not out["occluded"]
    return out
