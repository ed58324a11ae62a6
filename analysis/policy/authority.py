"""The one authority over the policy in force: people's pins over the recommender's thresholds, one numbering.

A person's policy is a set of *pins*: stratum → τ (:data:`DEFAULT` pins the
default threshold), each held until released. The recommender proposes whole
policies. The policy in force (:meth:`PolicyAuthority.effective`) is the
recommender's latest policy with every pinned stratum overridden by its pin:
a recommendation never overrides a pin, and a release lets the recommender's
value through again. The version is the last published version + 1 whenever
the effective thresholds change, and only then, so versions strictly increase
and a router never sees two versions of one policy. The state is plain data
(:meth:`PolicyAuthority.state`) that a checkpoint stores and
:meth:`PolicyAuthority.from_state` restores: a restart numbers on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from analysis.policy.automation import AutomationPolicy
from analysis.policy.pins import DEFAULT, InvalidPin, Pin, Release

__all__ = ["DEFAULT", "InvalidPin", "Pin", "PolicyAuthority", "Release"]


@dataclass(frozen=True)
class PolicyAuthority:
    """Pins, the recommender's latest policy, and the version of the policy in force (0: nothing published)."""

    recommended: AutomationPolicy = field(default_factory=AutomationPolicy)
    pins: Mapping[str, Pin] = field(default_factory=dict)
    version: int = 0
    _in_force: tuple[float, tuple[tuple[str, float], ...]] = (math.inf, ())

    @classmethod
    def following(cls, published: AutomationPolicy) -> PolicyAuthority:
        """An authority taking over from ``published`` (the last record of ``policies``, no pins known yet):
        the recommender's value until it recommends, numbering on from its version."""
        policy = replace(published, version=0)
        return cls(policy, {}, published.version, _combine(policy, {}))

    def pin(self, pin: Pin) -> PolicyAuthority:
        """``pin`` holds its stratum (replacing an earlier pin of it) until released."""
        return self._next(pins={**self.pins, pin.stratum: pin})

    def release(self, stratum: str) -> PolicyAuthority:
        """The stratum follows the recommender again (releasing what is not pinned changes nothing)."""
        return self._next(pins={s: p for s, p in self.pins.items() if s != stratum})

    def absorb(self, event: Pin | Release) -> PolicyAuthority:
        """A record of the ``policy-pins`` topic (:func:`analysis.policy.pins.decode`): a pin or a release."""
        return self.pin(event) if isinstance(event, Pin) else self.release(event.stratum)

    def recommend(self, policy: AutomationPolicy) -> PolicyAuthority:
        """The recommender's latest policy (its own version number is ignored: this authority numbers)."""
        return self._next(recommended=replace(policy, version=0))

    def effective(self) -> AutomationPolicy:
        """The policy in force: the recommended one with every pinned stratum overridden, at :attr:`version`."""
        default, thresholds = self._in_force
        return AutomationPolicy(default=default, thresholds=dict(thresholds), version=self.version)

    def pinned(self) -> dict[str, str]:
        """Who pinned each pinned stratum."""
        return {s: p.pinned_by for s, p in sorted(self.pins.items())}

    def _next(self, **changes: Any) -> PolicyAuthority:
        candidate = replace(self, **changes)
        in_force = _combine(candidate.recommended, candidate.pins)
        if in_force == self._in_force:
            return replace(candidate, _in_force=self._in_force)
        return replace(candidate, version=self.version + 1, _in_force=in_force)

    def state(self) -> dict[str, Any]:
        """Plain JSON-ready state for a checkpoint (τ = inf as None)."""
        default, thresholds = self._in_force
        return {"version": self.version, "recommended": _plain(self.recommended.default,
                                                               self.recommended.thresholds.items()),
                "in_force": _plain(default, thresholds), "pins": [p.record() for _, p in sorted(self.pins.items())]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PolicyAuthority:
        try:
            recommended, in_force = _unplain(state["recommended"]), _unplain(state["in_force"])
            pins = {p.stratum: p for p in (Pin.from_record(r) for r in state["pins"])}
            return cls(AutomationPolicy(recommended[0], dict(recommended[1])), pins, int(state["version"]), in_force)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidPin(f"not an authority state ({type(exc).__name__}: {exc})") from None


def _combine(recommended: AutomationPolicy, pins: Mapping[str, Pin]) -> tuple[float, tuple[tuple[str, float], ...]]:
    default = pins[DEFAULT].tau if DEFAULT in pins else recommended.default
    thresholds = {**recommended.thresholds, **{s: p.tau for s, p in pins.items() if s != DEFAULT}}
    return default, tuple(sorted(thresholds.items()))


def _plain(default: float, thresholds: Any) -> dict[str, Any]:
    def tau(value: float) -> float | None:
        return None if math.isinf(value) else value

    return {"default": tau(default), "thresholds": {s: tau(t) for s, t in sorted(thresholds)}}


def _unplain(plain: Mapping[str, Any]) -> tuple[float, tuple[tuple[str, float], ...]]:
    def tau(value: float | None) -> float:
        return math.inf if value is None else float(value)

    return tau(plain["default"]), tuple(sorted((str(s), tau(t)) for s, t in plain["thresholds"].items()))
