"""The built-in datasets' profiles, registered with the loop on import (``services/loop/datasets.py``)."""

from __future__ import annotations

from analysis.agreement import QualitySpec
from analysis.tracking.clip_spec import ClipAcceptanceSpec
from services.datasets.driving.builtin_specs import BUILTIN
from services.datasets.driving.coco import categories as driving_categories
from services.datasets.driving.qa_spec import REFERENCE_SPEC
from services.datasets.driving3d.qa_spec import REFERENCE_SPEC as REFERENCE_SPEC_3D
from services.datasets.driving3d.records import categories as driving3d_categories
from services.io.files import read_yaml
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

CLIP_LENGTH = 20  # frames per clip (2 s at 10 fps) of the driving-seq profile's source
DRIVING_SEQ = register(DatasetProfile(
    name="driving-seq", categories=DRIVING.categories, spec=REFERENCE_SPEC,
    reference_model="builtin:driving-detector",
    source=lambda seed, n: f"synthetic://driving-seq?seed={seed}&clips={n}&length={CLIP_LENGTH}",
    default_frames=150,  # clips: the loop's unit is a clip (3,000 frames)
    aliases=("builtin:driving-seq",),
    clip_spec=ClipAcceptanceSpec.from_dict(read_yaml(BUILTIN["builtin:driving-clips"]), "builtin:driving-clips",
                                           frames_named=lambda name: profile(name).spec),
    pipeline="builtin:driving-chain",
))

DRIVING3D = register(DatasetProfile(
    name="driving3d", categories=tuple(driving3d_categories()), spec=REFERENCE_SPEC_3D,
    reference_model="builtin:driving3d-detector", source=lambda seed, n: f"synthetic://driving3d?seed={seed}&n={n}",
    default_frames=1500, aliases=("builtin:driving3d",), geometry="cuboid3d",
))

__all__ = ["DIGITS", "DRIVING", "DRIVING3D", "DRIVING_SEQ", "profile"]
