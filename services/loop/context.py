"""What the comparator needs to know about a stream's data: its label set and QA spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analysis.agreement import QualitySpec
from services.loop.datasets import DatasetProfile, profile

if TYPE_CHECKING:  # the tracking metrics import scipy.optimize: only processes judging clips load them
    from analysis.tracking.clip_spec import ClipAcceptanceSpec


@dataclass(frozen=True)
class CompareContext:
    """Categories (COCO records), the quality spec frames are judged by, the spec clips are judged by, and the
    geometry kind of the dataset's objects (what a batch without any object is compared as)."""

    categories: tuple[dict[str, Any], ...]
    spec: QualitySpec
    clip_spec: ClipAcceptanceSpec | None = None  # clips: default the frame spec on every frame, no track rules
    geometry: str = "box2d"

    @classmethod
    def of(cls, dataset: DatasetProfile) -> CompareContext:
        return cls(tuple(dict(c) for c in dataset.categories), dataset.spec, dataset.clip_spec, dataset.geometry)

    @classmethod
    def for_dataset(cls, name: str) -> CompareContext:
        """The context of the registered dataset profile ``name`` (``services/loop/datasets.py``)."""
        return cls.of(profile(name))
