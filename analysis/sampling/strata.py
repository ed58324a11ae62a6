"""A stratum's name from the tags of a frame or a clip: ``key=value`` per stratum key, joined by commas
(``weather=fog,time_of_day=night``); ``all`` without keys. The replay (``ReplayConfig.stratum``) and the engine's
clip acceptance both name strata with it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analysis.policy.automation import ALL


def stratum_of(tags: Mapping[str, Any], keys: Sequence[str]) -> str:
    """The stratum of something tagged ``tags`` when ``keys`` make the strata."""
    if not keys:
        return ALL
    return ",".join(f"{key}={tags.get(key, '')}" for key in keys)
