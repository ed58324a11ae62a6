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
    """The frames both sides annotate, with the router's inclusion probability."""

    ids: IntArray
    width: IntArray
    height: IntArray
    file_names: tuple[str, ...]
    inclusion_prob: FloatArray
    index: Mapping[int, int] = field(repr=False)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class Objects:
    """Annotated objects of many frames in flat columns, sorted by frame.

    Within one frame objects keep their order in the source file, which score-tie
    rules (pycocotools) depend on.
    """

    frame: IntArray  # index into Images, non-decreasing
    ann_id: IntArray
    category: IntArray  # dense category index, see Categories.index_of
    boxes: FloatArray  # (N, 4) x, y, width, height
    area: FloatArray
    score: FloatArray  # NaN where the source has no score
    crowd: BoolArray
    ignore: BoolArray
    track_id: IntArray  # -1 where absent
    attributes: LabelTable | None = None
    masks: Sequence[Rle | None] | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def has_scores(self) -> bool:
        return bool(len(self.score) == 0 or not np.isnan(self.score).any())

    def take(self, index: IntArray) -> Objects:
        """The objects at ``index`` (which must keep frame order)."""

        def pick(seq: Sequence[Any] | None) -> Sequence[Any] | None:
            return None if seq is None else [seq[i] for i in index.tolist()]

        return Objects(
            frame=self.frame[index], ann_id=self.ann_id[index], category=self.category[index],
            boxes=self.boxes[index], area=self.area[index], score=self.score[index],
            crowd=self.crowd[index], ignore=self.ignore[index], track_id=self.track_id[index],
            attributes=None if self.attributes is None else self.attributes.take(index),
            masks=pick(self.masks),
        )


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
