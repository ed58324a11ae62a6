"""A person's pins: a stratum's threshold held until released, and how pins and releases travel.

On the compacted ``policy-pins`` topic (key: the stratum) each record is the
latest word on its stratum: a pin, or a release (the stratum follows the
recommender again). Records are JSON with a ``schema_version``; :func:`decode`
refuses anything else with :class:`InvalidPin`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.exceptions import InvalidInput

SCHEMA_VERSION = 1
DEFAULT = "*"  # the pin of the default threshold (frames no stratum-specific threshold covers)


class InvalidPin(InvalidInput):
    """Raised when a pin or a stored authority state cannot be read (a stratum or τ out of range, a field missing)."""

    def __init__(self, problem: str) -> None:
        super().__init__("policy pins", "", problem)


@dataclass(frozen=True)
class Pin:
    """A person's threshold for one stratum, held until released; τ = inf: nothing of the stratum ships."""

    stratum: str
    tau: float
    pinned_by: str
    reason: str = ""
    time: float = 0.0

    def __post_init__(self) -> None:
        if not self.stratum:
            raise InvalidPin("a pin needs a stratum (or '*' for the default)")
        if not (0.0 <= self.tau <= 1.0 or self.tau == math.inf):
            raise InvalidPin(f"a pin's threshold is a confidence in [0, 1] or inf (nothing ships), not {self.tau}")

    def record(self) -> dict[str, Any]:
        """Plain JSON-ready form (τ = inf as None), as the ``policy-pins`` topic and checkpoints carry it."""
        return {"stratum": self.stratum, "threshold": None if math.isinf(self.tau) else self.tau,
                "pinned_by": self.pinned_by, "reason": self.reason, "time": self.time}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Pin:
        try:
            threshold = record["threshold"]
            return cls(str(record["stratum"]), math.inf if threshold is None else float(threshold),
                       str(record["pinned_by"]), str(record.get("reason", "")), float(record.get("time", 0.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidPin(f"not a pin record ({type(exc).__name__}: {exc}): {dict(record)!r}") from None


@dataclass(frozen=True)
class Release:
    """A person lets a pinned stratum follow the recommender again."""

    stratum: str
    released_by: str
    reason: str = ""
    time: float = 0.0

    def record(self) -> dict[str, Any]:
        return {"stratum": self.stratum, "released_by": self.released_by, "reason": self.reason, "time": self.time}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Release:
        try:
            return cls(str(record["stratum"]), str(record["released_by"]), str(record.get("reason", "")),
                       float(record.get("time", 0.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidPin(f"not a release record ({type(exc).__name__}: {exc}): {dict(record)!r}") from None


def encode(event: Pin | Release) -> bytes:
    """The ``policy-pins`` record of ``event`` (its key is ``event.stratum`` in UTF-8)."""
    return json.dumps({"schema_version": SCHEMA_VERSION, **event.record()}, allow_nan=False).encode()


def decode(raw: bytes) -> Pin | Release:
    """A ``policy-pins`` record; :class:`InvalidPin` for anything else (not JSON, another schema, a bad field)."""
    try:
        record = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidPin(f"not JSON: {exc}") from None
    if not isinstance(record, dict) or record.get("schema_version") != SCHEMA_VERSION:
        raise InvalidPin(f"not a policy-pins record of schema version {SCHEMA_VERSION}: {str(record)[:200]}")
    return Release.from_record(record) if "released_by" in record else Pin.from_record(record)
