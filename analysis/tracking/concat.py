"""Several clips as one: how metrics that do not add up over clips (HOTA) are combined as TrackEval does.

The clips are laid end to end (frames offset by the lengths before them) and each clip's track ids replaced
by their rank in the clip plus the number of tracks before it, so no track spans two clips and ids keep their
order within a clip. CLEAR-MOT and ID counts of the result are the sums of the clips' (every matching stays
within a frame or a track); HOTA of the result is TrackEval's combination over sequences (per-alpha detection
counts summed, association scores weighted by their true positives).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.tracking.exceptions import InvalidTracks
from analysis.tracking.model import Tracks


def concatenate(clips: Sequence[Tracks]) -> Tracks:
    """The clips end to end as one clip (at least one clip); optional columns kept when every clip has them."""
    if not clips:
        raise InvalidTracks("concatenate", "clips", "needs at least one clip")
    frame_offset = np.cumsum([0] + [c.num_frames for c in clips])
    ranks = [np.unique(c.track_id, return_inverse=True) for c in clips]
    id_offset = np.cumsum([0] + [len(ids) for ids, _ in ranks])
    optional = {name: _column(clips, name) for name in ("category", "confidence", "visibility")}
    return Tracks.from_arrays(
        num_frames=int(frame_offset[-1]), frame=_cat([c.frame + o for c, o in zip(clips, frame_offset, strict=False)]),
        track_id=_cat([inv.reshape(-1) + o for (_, inv), o in zip(ranks, id_offset, strict=False)]),
        boxes=np.concatenate([c.boxes.reshape(-1, 4) for c in clips]), source="concatenated clips", **optional)


def _column(clips: Sequence[Tracks], name: str) -> np.ndarray | None:
    parts = [getattr(c, name) for c in clips]
    return None if any(p is None for p in parts) else np.concatenate(parts)


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.zeros(0, np.int64), *parts]).astype(np.int64)
