"""``postprocess``: rules on tracked boxes, in this order (:mod:`services.engine.chain.rules`):

1. drop the boxes of tracks seen on fewer than ``min_track_length`` (3) frames, interpolated boxes not
   counted, and untracked boxes (track id -1) if ``drop_untracked`` (true);
2. if ``smooth_classes`` (true), give every box of a track the class most of its boxes have (ties: the larger
   summed score, then the smaller category id);
3. fill each gap of at most ``max_gap`` (5) frames in a track (0: none) with boxes linear in the frame index
   between the gap's ends, of the earlier end's class, scored the smaller of the ends' scores, flagged
   interpolated (snapshots and COCO results say ``"interpolated": true``). A frame missing from the source,
   or one that failed, gets no box.

A frame's boxes come out as they came (those kept), then its interpolated boxes by track id; its confidence,
tags and error are unchanged. Version: the parameters' hash (8 hex digits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike

from analysis.exceptions import InvalidInput
from services.engine.chain.data import StepOutput
from services.engine.chain.params import params_hash
from services.engine.chain.registry import register
from services.engine.chain.rules import BoxTable, drop_short_tracks, interpolate_gaps, smooth_classes
from services.engine.chain.step import ChainStep, RunContext


@dataclass(frozen=True)
class PostprocessParams:
    min_track_length: int = field(default=3, metadata={"minimum": 1})
    max_gap: int = field(default=5, metadata={"minimum": 0})
    smooth_classes: bool = True
    drop_untracked: bool = True


@register("postprocess", "post")
class PostprocessStep(ChainStep):
    Params = PostprocessParams

    def version(self) -> str:
        return params_hash(self.parameters())

    def run(self, data: StepOutput | None, context: RunContext) -> StepOutput:
        if data is None:
            raise InvalidInput(self.name, "", "the postprocess step needs the output of a step before it")
        params: PostprocessParams = self.spec.params
        table = drop_short_tracks(to_table(data), params.min_track_length, drop_untracked=params.drop_untracked)
        if params.smooth_classes:
            table = smooth_classes(table)
        ready = {(f.video_id, f.frame_index): i for i, (f, r) in enumerate(zip(data.frames, data.results,
                                                                             strict=True)) if r.ok}
        return from_table(data, interpolate_gaps(table, params.max_gap, ready).sorted())


def to_table(data: StepOutput) -> BoxTable:
    """Every box of ``data`` as a row (boxes of an untracked result get track id -1)."""
    counts = np.array([len(r.boxes) for r in data.results], dtype=np.int64)
    frame = np.repeat(np.arange(len(data), dtype=np.int64), counts)
    info = data.frames
    return BoxTable(
        frame=frame, clip=_cat([[info[i].video_id for i in frame]], np.int64),
        frame_index=_cat([[info[i].frame_index for i in frame]], np.int64),
        order=_cat([np.arange(c) for c in counts], np.int64),
        boxes=_cat([r.boxes for r in data.results], np.float64, 4),
        category_ids=_cat([r.category_ids for r in data.results], np.int64),
        scores=_cat([r.scores for r in data.results], np.float64),
        track_ids=_cat([r.track_ids if len(r.track_ids) else np.full(len(r.boxes), -1) for r in data.results],
                       np.int64),
        interpolated=_cat(list(data.interpolated), np.bool_),
    )


def _cat(parts: Sequence[ArrayLike], dtype: type, *tail: int) -> np.ndarray:
    return np.concatenate([np.zeros((0, *tail), dtype=dtype),
                           *(np.asarray(p, dtype=dtype).reshape(-1, *tail) for p in parts)])


def from_table(data: StepOutput, table: BoxTable) -> StepOutput:
    """``data`` with each frame's boxes replaced by the rows of ``table`` on it (``table`` sorted by frame)."""
    bounds = np.searchsorted(table.frame, np.arange(len(data) + 1))
    results, flags = [], []
    for i, r in enumerate(data.results):
        rows = slice(int(bounds[i]), int(bounds[i + 1]))
        flags.append(table.interpolated[rows].copy())
        results.append(r if not r.ok else replace(
            r, boxes=table.boxes[rows].copy(), category_ids=table.category_ids[rows].copy(),
            scores=table.scores[rows].copy(), track_ids=table.track_ids[rows].copy()))
    return StepOutput(data.frames, tuple(results), tuple(flags))
