"""One Label Studio project per dataset profile, its labelling config generated from the profile.

Rectangle labels for the profile's categories, one single choice per image tag (its values in the data set's
order), and per-region choices for the box attributes people record (driving: occluded, truncated). The config
is built from the profile alone: nothing of a frame's machine output goes into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.api.formats.label_studio import label_studio_config
from services.engine.frame_refs import DigitsRef, SyntheticRef, frame_truth, parse_ref
from services.exceptions import InvalidInput

# per-region attributes people record on a box, by profile (as strings: choices are strings)
REGION_ATTRIBUTES: dict[str, dict[str, tuple[str, ...]]] = {
    "driving": {"occluded": ("true", "false"), "truncated": ("true", "false")},
}
_SAMPLE_REFS = {"driving": "synthetic://driving?seed=0#1", "digits": "sklearn-digits://#1"}


@dataclass(frozen=True)
class Labeling:
    """What a profile's annotators draw and choose in Label Studio."""

    profile: str
    categories: dict[str, int]  # name -> COCO category id (what results are read back as)
    tag_values: dict[str, list[str]]
    region_attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"shadowqa {self.profile}"

    def config(self) -> str:
        return label_studio_config(list(self.categories), self.tag_values, self.region_attributes)


def profile_of(frame_ref: str) -> str:
    """The dataset profile a frame reference belongs to (the bridge keeps one project per profile)."""
    parsed = parse_ref(frame_ref)
    if isinstance(parsed, SyntheticRef):
        return "driving"
    if isinstance(parsed, DigitsRef):
        return "digits"
    raise InvalidInput(frame_ref, "", "the Label Studio bridge takes synthetic and digits frames (their profiles "
                       "say what to label); image files have no profile")


def labeling(profile: str) -> Labeling:
    """The labelling of ``profile`` (``driving`` or ``digits``)."""
    if profile not in _SAMPLE_REFS:
        raise InvalidInput(profile, "", f"no labelling is known for profile {profile!r} (known: "
                           f"{', '.join(sorted(_SAMPLE_REFS))})")
    truth = frame_truth(_SAMPLE_REFS[profile])
    return Labeling(profile=profile, categories={str(c["name"]): int(c["id"]) for c in truth.categories},
                    tag_values=dict(truth.tag_values), region_attributes=REGION_ATTRIBUTES.get(profile, {}))


def labelings() -> dict[str, Labeling]:
    """Every profile's labelling, by profile name."""
    return {name: labeling(name) for name in _SAMPLE_REFS}
