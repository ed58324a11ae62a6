"""Step kinds found by name: one module per kind in :mod:`services.engine.chain.steps`, registered with
``@register("kind")`` on its :class:`~services.engine.chain.step.ChainStep` class. The registry imports every
module of that package at its first lookup, so a new kind is one module and its test, nothing else edited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from analysis.exceptions import InvalidInput
from analysis.names import Names, import_modules
from services.engine.chain.exceptions import InvalidPipeline
from services.engine.chain.step import ChainStep

S = TypeVar("S", bound=type[ChainStep])
SOURCE = "step kind"
_KINDS: Names[type[ChainStep]] = Names(SOURCE)


def register(name: str, *aliases: str) -> Callable[[S], S]:
    """Class decorator: specs name this step kind ``name`` (or one of ``aliases``)."""
    def decorate(cls: S) -> S:
        known = _KINDS.values.get(name)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise InvalidPipeline(SOURCE, name, f"already registered by {known.__qualname__}")
        try:
            _KINDS.add(name, aliases, cls)
        except InvalidInput as exc:
            raise InvalidPipeline(SOURCE, exc.where, exc.problem) from None
        cls.kind = name
        return cls
    return decorate


def unregister(name: str) -> None:
    """Forget kind ``name`` (for tests that register a kind of their own)."""
    _KINDS.remove(name)


def step_kinds() -> tuple[str, ...]:
    """The registered kinds, sorted."""
    _discover()
    return _KINDS.names()


def get_kind(name: str) -> type[ChainStep] | None:
    """The class of kind ``name`` (or an alias), None if unknown."""
    _discover()
    canonical = _KINDS.canonical(name)
    return None if canonical is None else _KINDS.values[canonical]


def _discover() -> None:
    import_modules("services.engine.chain.steps")
