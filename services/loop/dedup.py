"""Counting each (frame, kind) once with memory bounded by a time horizon, not by history.

A comparison is counted the first time its (frame, kind) is seen. Duplicates
come from one place: a comparator that replays input it had not committed
(after a crash or a rebalance) compares those frames again and emits the same
comparison, with the same ``time`` (the latest time of its inputs), shortly
after the first. So only keys whose time lies within ``horizon`` seconds of the
newest comparison seen need remembering; older keys are forgotten. The horizon
is the comparator's pending TTL (a comparison may be emitted that long after
its inputs, by expiry) plus a margin for the comparator's recovery
(:data:`RECOVERY_MARGIN`). The window holds (comparisons per second) ×
horizon keys, whatever the length of the stream; a comparison older than the
horizon is counted (it cannot be told from a duplicate any more) and counted
in :attr:`SeenWindow.late`, which should stay 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.loop.messages import ComparisonMessage

RECOVERY_MARGIN = 3600.0  # seconds a crashed comparator may take to replay its uncommitted input


@dataclass
class SeenWindow:
    """The (frame, kind) keys of the last ``horizon`` seconds of comparison time, with their times."""

    horizon: float
    seen: dict[tuple[str, str], float] = field(default_factory=dict)  # in arrival order
    newest: float = -math.inf
    late: int = 0  # comparisons counted although older than the horizon

    def first(self, c: ComparisonMessage) -> bool:
        """True (and remembered) the first time ``c``'s (frame, kind) is seen within the horizon."""
        key = (c.frame_id, c.kind)
        if key in self.seen:
            return False
        if c.time < self.newest - self.horizon:
            self.late += 1
            return True
        self.seen[key] = c.time
        if c.time > self.newest:
            self.newest = c.time
            self._forget()
        return True

    def _forget(self) -> None:
        """Drop keys older than the horizon from the front (arrival order is time order up to small jitter;
        a key that arrived out of order is dropped a little later, when the keys before it are)."""
        edge = self.newest - self.horizon
        while self.seen:
            key, time = next(iter(self.seen.items()))
            if time >= edge:
                return
            del self.seen[key]

    def to_dict(self) -> dict[str, Any]:
        return {"horizon": self.horizon, "newest": None if math.isinf(self.newest) else self.newest,
                "late": self.late, "keys": [[f, k, t] for (f, k), t in self.seen.items()]}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> SeenWindow:
        newest = -math.inf if doc["newest"] is None else float(doc["newest"])
        seen = {(str(f), str(k)): float(t) for f, k, t in doc["keys"]}
        return cls(float(doc["horizon"]), seen, newest, int(doc["late"]))


def horizon(pending_ttl: float) -> float:
    """How far back in comparison time a duplicate can arrive: the pending TTL plus the recovery margin."""
    return pending_ttl + RECOVERY_MARGIN
