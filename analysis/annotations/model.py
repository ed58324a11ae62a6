"""Column-wise annotation model: frames, categories and the objects on them.

Objects of all frames live in flat numpy columns grouped by frame, so matching
and agreement run vectorised across frames instead of looping per frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from analysis.annotations.label_table import LabelTable
from analysis.annotations.model_types import BoolArray, FloatArray, IntArray

Tags = Mapping[str, str]

__all__ = [
    "Annotations",
    "BoolArray",
    "Categories",
    "FloatArray",
    "Images",
    "IntArray",
    "LabelTable",
    "Objects",
    "Rle",
    "Tags",
]


@dataclass(frozen=True)
class Rle:
    """A COCO run-length encoded mask: ``counts`` alternate background/foreground runs
    over the column-major flattened image of ``height`` x ``width`` pixels."""

    height: int
    width: int
    counts: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class Categories:
    """The label set: category ids, their names and a dense index 0..K-1 for arrays."""

    ids: IntArray
    names: tuple[str, ...]
    supercategories: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, category_ids: IntArray) -> IntArray:
        """Dense indices of known category ids (callers validate ids first)."""
        order = np.argsort(self.ids)
        pos = np.searchsorted(self.ids, category_ids, sorter=order)
        return order[np.minimum(pos, len(order) - 1)].astype(np.int64)

    def name_of(self, index: int) -> str:
        return self.names[index]


@dataclass(frozen=True, eq=False)
class Images:
    """The frames both sides annotate, with the router's inclusion probability.

    Frames of video clips carry their clip's ``video_id`` and their ``frame_index``
    in it (COCO-video / TAO); both are -1 for a frame outside any clip, and when
    not given at all.
    """

    ids: IntArray
    width: IntArray
    height: IntArray
    file_names: tuple[str, ...]
    inclusion_prob: FloatArray
    index: Mapping[int, int] = field(repr=False)
    video_id: IntArray = field(default_factory=lambda: _NOT_IN_A_VIDEO, repr=False)
    frame_index: IntArray = field(default_factory=lambda: _NOT_IN_A_VIDEO, repr=False)

    def __post_init__(self) -> None:
        for name in ("video_id", "frame_index"):
            if getattr(self, name) is _NOT_IN_A_VIDEO:
                object.__setattr__(self, name, np.full(len(self.ids), -1, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def has_videos(self) -> bool:
        """Whether any frame belongs to a video clip."""
        return bool((self.video_id >= 0).any())


_NOT_IN_A_VIDEO: IntArray = np.full(0, -1, dtype=np.int64)  # marks video columns not given


Column = Any  # one geometry kind's column block: an array with a row per object, or a list


@dataclass(frozen=True, eq=False, init=False)
class Objects:
    """Annotated objects of many frames in flat columns, sorted by frame.

    ``geometry`` maps a geometry kind's name (``analysis/geometry``: ``box2d``,
    ``mask``, ...) to that kind's column block, one entry per object; ``boxes``
    and ``masks`` read the ``box2d`` and ``mask`` blocks, and are accepted as
    keyword arguments for them. Within one frame objects keep their order in the
    source file, which score-tie rules (pycocotools) depend on.
    """

    frame: IntArray  # index into Images, non-decreasing
    ann_id: IntArray
    category: IntArray  # dense category index, see Categories.index_of
    area: FloatArray
    score: FloatArray  # NaN where the source has no score
    crowd: BoolArray
    ignore: BoolArray
    track_id: IntArray  # -1 where absent
    attributes: LabelTable | None
    geometry: Mapping[str, Column]

    def __init__(
        self, *, frame: IntArray, ann_id: IntArray, category: IntArray, area: FloatArray, score: FloatArray,
        crowd: BoolArray, ignore: BoolArray, track_id: IntArray, attributes: LabelTable | None = None,
        geometry: Mapping[str, Column] | None = None, boxes: FloatArray | None = None,
        masks: Sequence[Rle | None] | None = None,
    ) -> None:
        blocks = dict(geometry or {})
        if boxes is not None:
            blocks[BOX2D] = boxes
        if masks is not None:
            blocks[MASK] = masks
        values = {"frame": frame, "ann_id": ann_id, "category": category, "area": area, "score": score,
                  "crowd": crowd, "ignore": ignore, "track_id": track_id, "attributes": attributes,
                  "geometry": blocks}
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def boxes(self) -> FloatArray:
        """The ``box2d`` block: (N, 4) x, y, width, height."""
        boxes: FloatArray = self.geometry[BOX2D]
        return boxes

    @property
    def masks(self) -> Sequence[Rle | None] | None:
        """The ``mask`` block, None when the objects were read without masks."""
        masks: Sequence[Rle | None] | None = self.geometry.get(MASK)
        return masks

    @property
    def has_scores(self) -> bool:
        return bool(len(self.score) == 0 or not np.isnan(self.score).any())

    def take(self, index: IntArray) -> Objects:
        """The objects at ``index`` (which must keep frame order)."""
        return Objects(
            frame=self.frame[index], ann_id=self.ann_id[index], category=self.category[index],
            area=self.area[index], score=self.score[index], crowd=self.crowd[index], ignore=self.ignore[index],
            track_id=self.track_id[index], attributes=None if self.attributes is None else self.attributes.take(index),
            geometry={kind: _take(block, index) for kind, block in self.geometry.items()},
        )


BOX2D, MASK = "box2d", "mask"  # the blocks ``boxes`` and ``masks`` name


def _take(block: Column, index: IntArray) -> Column:
    if isinstance(block, np.ndarray):
        return block[index]
    return [block[i] for i in index.tolist()]


@dataclass(frozen=True, eq=False)
class Annotations:
    """One side's annotation of a set of frames: the objects plus frame-level labels.

    ``tags`` holds image-level categorical labels (weather, time of day) per frame;
    ``confidence`` and ``model_version`` are set for machine annotations.
    """

    images: Images
    categories: Categories
    objects: Objects
    tags: Sequence[Tags]
    confidence: FloatArray
    model_version: Sequence[str | None]
    source: str = ""

    @cached_property
    def tag_table(self) -> LabelTable:
        """``tags`` column-wise."""
        return LabelTable.from_records(self.tags)

    @property
    def frame_offsets(self) -> IntArray:
        """``offsets[f]:offsets[f+1]`` are the objects of frame ``f``."""
        counts = np.bincount(self.objects.frame, minlength=len(self.images))
        return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
