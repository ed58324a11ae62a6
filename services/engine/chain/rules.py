"""Post-processing rules on tracked boxes, as pure functions of a :class:`BoxTable` (every box of a run, one
row each): drop short tracks, vote a class per track, fill short gaps by linear interpolation."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from services.engine.chain.data import BoolArray
from services.engine.results import FloatArray, IntArray


@dataclass(frozen=True)
class BoxTable:
    """Boxes as columns: ``frame`` is the position of the box's frame in the step output, ``clip`` and
    ``frame_index`` its frame's clip and place, ``order`` the box's place among its frame's boxes."""

    frame: IntArray
    clip: IntArray
    frame_index: IntArray
    order: IntArray
    boxes: FloatArray
    category_ids: IntArray
    scores: FloatArray
    track_ids: IntArray
    interpolated: BoolArray

    def __len__(self) -> int:
        return len(self.frame)

    def take(self, index: IntArray | BoolArray) -> BoxTable:
        return BoxTable(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def stack(tables: list[BoxTable]) -> BoxTable:
        return BoxTable(**{f.name: np.concatenate([getattr(t, f.name) for t in tables]) for f in fields(BoxTable)})

    def columns(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def sorted(self) -> BoxTable:
        """By frame; in a frame, the boxes as they came, then interpolated boxes by track id."""
        key = np.where(self.interpolated, self.track_ids, self.order)
        return self.take(np.lexsort((key, self.interpolated, self.frame)))


def drop_short_tracks(table: BoxTable, min_length: int, *, drop_untracked: bool) -> BoxTable:
    """Without the boxes of tracks seen (not interpolated) on fewer than ``min_length`` frames, and without
    untracked boxes (track id -1) if ``drop_untracked``."""
    tracked = table.track_ids >= 0
    ids, counts = np.unique(table.track_ids[tracked & ~table.interpolated], return_counts=True)
    long_enough = np.isin(table.track_ids, ids[counts >= min_length])
    return table.take(long_enough | (~tracked & (not drop_untracked)))


def smooth_classes(table: BoxTable) -> BoxTable:
    """Every box of a track takes the track's class: the one most of its seen boxes have (ties: the larger
    summed score, then the smaller category id). Untracked boxes keep theirs."""
    categories = table.category_ids.copy()
    for track in np.unique(table.track_ids[table.track_ids >= 0]):
        rows = table.track_ids == track
        seen = rows & ~table.interpolated if (rows & ~table.interpolated).any() else rows
        categories[rows] = _vote(table.category_ids[seen], table.scores[seen])
    return BoxTable(**{**table.columns(), "category_ids": categories})


def _vote(categories: IntArray, scores: FloatArray) -> int:
    cats, counts = np.unique(categories, return_counts=True)
    summed = np.array([scores[categories == c].sum() for c in cats])
    best = np.lexsort((cats, -summed, -counts))[0]
    return int(cats[best])


def interpolate_gaps(table: BoxTable, max_gap: int, frames: Mapping[tuple[int, int], int]) -> BoxTable:
    """``table`` plus boxes filling each gap of at most ``max_gap`` frames in a track: linear in the frame
    index between the boxes at its ends, the earlier end's class, the smaller of the ends' scores, flagged
    interpolated. ``frames`` maps ``(clip, frame_index)`` to the position of each frame that can take boxes;
    frames not in it (missing, failed) get none."""
    added: list[BoxTable] = []
    for track in np.unique(table.track_ids[table.track_ids >= 0]):
        rows = np.flatnonzero(table.track_ids == track)
        rows = rows[np.argsort(table.frame_index[rows], kind="stable")]
        for a, b in itertools.pairwise(rows):
            gap = int(table.frame_index[b] - table.frame_index[a]) - 1
            if 0 < gap <= max_gap:
                added.append(_between(table, int(a), int(b), frames))
    return BoxTable.stack([table, *added])


def _between(table: BoxTable, a: int, b: int, frames: Mapping[tuple[int, int], int]) -> BoxTable:
    clip, start, end = int(table.clip[a]), int(table.frame_index[a]), int(table.frame_index[b])
    steps = [f for f in range(start + 1, end) if (clip, f) in frames]
    t = (np.array(steps, dtype=np.float64) - start) / (end - start)
    n = len(steps)
    return BoxTable(
        frame=np.array([frames[clip, f] for f in steps], dtype=np.int64), clip=np.full(n, clip, dtype=np.int64),
        frame_index=np.array(steps, dtype=np.int64), order=np.full(n, -1, dtype=np.int64),
        boxes=table.boxes[a] + t[:, None] * (table.boxes[b] - table.boxes[a]),
        category_ids=np.full(n, table.category_ids[a], dtype=np.int64),
        scores=np.full(n, min(table.scores[a], table.scores[b]), dtype=np.float64),
        track_ids=np.full(n, table.track_ids[a], dtype=np.int64), interpolated=np.ones(n, dtype=bool),
    )
