"""When are a clip's machine tracks good enough to ship? Limits on its tracking metrics, read from YAML/JSON::

    max_id_switches: 2      # CLEAR-MOT ID switches
    max_fragmentations: 4   # gt tracks interrupted and resumed
    min_idf1: 0.8
    min_mota: 0.7
    min_hota: 0.6

Every limit is optional; an absent one is not checked. A clip where neither side has a detection is accepted
(nothing to disagree on); otherwise a limited metric that is undefined (NaN) fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from analysis.annotations import checks
from analysis.exceptions import InvalidInput
from analysis.tracking.exceptions import InvalidTrackSpec
from analysis.tracking.metrics import TrackMetrics

_LIMITS: dict[str, tuple[str, Callable[[TrackMetrics], float]]] = {
    "max_id_switches": ("ID switches", lambda m: m.clear.num_switches),
    "max_fragmentations": ("fragmentations", lambda m: m.clear.num_fragmentations),
    "min_idf1": ("IDF1", lambda m: m.identity.idf1),
    "min_mota": ("MOTA", lambda m: m.clear.mota),
    "min_hota": ("HOTA", lambda m: m.hota.hota),
}


@dataclass(frozen=True)
class TrackAcceptanceSpec:
    """Limits a clip's tracking metrics must meet; see the module docstring for the file format."""

    max_id_switches: int | None = None
    max_fragmentations: int | None = None
    min_idf1: float | None = None
    min_mota: float | None = None
    min_hota: float | None = None

    @classmethod
    def from_dict(cls, doc: Any, source: str = "spec") -> TrackAcceptanceSpec:
        """A spec from a parsed YAML/JSON mapping; unknown keys and values out of range are errors."""
        if doc is None:
            return cls()
        rec = spec_record(doc, source, tuple(_LIMITS))
        limits: dict[str, Any] = {k: _limit(k, v, source) for k, v in rec.items() if v is not None}
        return cls(**limits)

    def to_dict(self) -> dict[str, int | float]:
        """The limits that are set, as :meth:`from_dict` reads them."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def judge(self, metrics: TrackMetrics) -> tuple[bool, tuple[str, ...]]:
        """Whether the clip passes, and one reason per limit it breaks."""
        if metrics.clear.num_objects == 0 and metrics.clear.num_predictions == 0:
            return True, ()
        reasons = tuple(r for name, limit in self.to_dict().items() if (r := _breach(name, limit, metrics)))
        return not reasons, reasons


def _limit(key: str, value: Any, source: str) -> int | float:
    try:
        if key.startswith("max_"):
            return checks.integer(value, source, key, minimum=0)
        return checks.number(value, source, key, minimum=None if key == "min_mota" else 0.0, maximum=1.0)
    except InvalidInput as exc:
        raise InvalidTrackSpec(source, exc.where, exc.problem) from None


def _breach(name: str, limit: float, metrics: TrackMetrics) -> str | None:
    label, read = _LIMITS[name]
    value = read(metrics)
    if math.isnan(value):
        return f"{label} is undefined, cannot meet {name} {limit}"
    if name.startswith("max_") and value > limit:
        return f"{label} {value} > {name} {limit}"
    if name.startswith("min_") and value < limit:
        return f"{label} {value:.4f} < {name} {limit}"
    return None


def spec_record(doc: Any, source: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    """``doc`` as a mapping whose keys are all in ``keys``; :class:`InvalidTrackSpec` naming the first other."""
    try:
        rec = checks.as_record(doc, source, "")
    except InvalidInput as exc:
        raise InvalidTrackSpec(source, "", exc.problem) from None
    unknown = [k for k in rec if k not in keys]
    if unknown:
        raise InvalidTrackSpec(source, str(unknown[0]), f"unknown key (known: {', '.join(keys)})")
    return rec
