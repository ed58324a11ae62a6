"""Dataset profiles by name: what the loop needs to know about a stream's data, registered by the datasets.

The loop imports ``analysis/`` only, so the registry lives here and each data
set registers its own profile (``services/datasets/profiles.py`` registers the
built-in ones; a process that names a dataset imports it first). One canonical
name per dataset (``driving``, ``digits``); older spellings are aliases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analysis.agreement import QualitySpec
from analysis.exceptions import InvalidInput
from analysis.names import Names

if TYPE_CHECKING:  # the tracking metrics import scipy.optimize: only processes judging clips load them
    from analysis.tracking.clip_spec import ClipAcceptanceSpec


@dataclass(frozen=True)
class DatasetProfile:
    """A dataset's categories (COCO records), QA spec, reference model, frame source and geometry kind."""

    name: str
    categories: tuple[Mapping[str, Any], ...]
    spec: QualitySpec
    reference_model: str  # the model replayed and run when none is named
    source: Callable[[int, int], str]  # (seed, frames) -> frame source spec (services/engine/sources.py)
    default_frames: int = 3000  # frames a replay uses when none is named
    aliases: tuple[str, ...] = field(default=())
    clip_spec: ClipAcceptanceSpec | None = None  # a dataset of clips: when a clip's tracks may ship
    pipeline: str | None = None  # a dataset of clips: the reference chain (a pipeline spec file) replayed and run
    geometry: str = "box2d"  # the geometry kind of its objects (analysis/geometry), also of frames without any


_PROFILES: Names[DatasetProfile] = Names("dataset profile")


def register(profile: DatasetProfile) -> DatasetProfile:
    """Make ``profile`` known by its name and aliases (registering the same name again replaces it)."""
    _PROFILES.add(profile.name, profile.aliases, profile)
    return profile


def canonical(name: str) -> str:
    """The canonical name of ``name`` (a name or an alias)."""
    canonical_name = _PROFILES.canonical(name)
    if canonical_name is None:
        raise InvalidInput("loop", "dataset", f"unknown dataset {name!r} (known: {', '.join(profile_names())})")
    return canonical_name


def profile(name: str) -> DatasetProfile:
    """The registered profile named ``name`` (or one of its aliases)."""
    return _PROFILES.values[canonical(name)]


def profile_names() -> tuple[str, ...]:
    return _PROFILES.names()
