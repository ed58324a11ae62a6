"""The built-in datasets' profiles, registered with the loop on import (``services/loop/datasets.py``)."""

from __future__ import annotations

from analysis.agreement import QualitySpec
from services.datasets.driving.coco import categories as driving_categories
from services.datasets.driving.qa_spec import REFERENCE_SPEC
from services.loop.datasets import DatasetProfile, profile, register

DRIVING = register(DatasetProfile(
    name="driving", categories=tuple(driving_categories()), spec=REFERENCE_SPEC,
    reference_model="builtin:driving-detector", source=lambda seed, n: f"synthetic://driving?seed={seed}&n={n}",
    default_frames=3000, aliases=("builtin:driving",),
))
DIGITS = register(DatasetProfile(
    name="digits", categories=(), spec=QualitySpec.from_mapping({"tags": ["digit"]}, "digits spec"),
    reference_model="builtin:digits", source=lambda seed, n: f"sklearn-digits://?split=all&n={n}",
    default_frames=1797, aliases=("builtin:digits",),
))

__all__ = ["DIGITS", "DRIVING", "profile"]
