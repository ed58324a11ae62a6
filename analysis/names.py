"""Things known by a canonical name and aliases: the one table behind the geometry and dataset registries, and
the discovery of a registry's plug-in modules."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable
from typing import Generic, TypeVar

from analysis.exceptions import InvalidInput

T = TypeVar("T")


class Names(Generic[T]):
    """Values by canonical name; each alias resolves to one canonical name (``what`` names them in errors)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.values: dict[str, T] = {}  # canonical name -> value
        self._canonical: dict[str, str] = {}  # name or alias -> canonical name

    def add(self, name: str, aliases: Iterable[str], value: T) -> None:
        """Know ``value`` as ``name`` and ``aliases``; registering ``name`` again replaces it."""
        every = (name, *aliases)
        for alias in every:
            owner = self._canonical.get(alias)
            if owner is not None and owner != name:
                raise InvalidInput(self.what, alias, f"already names {self.what} {owner!r}")
        self.values[name] = value
        self._canonical.update({alias: name for alias in every})

    def remove(self, name: str) -> T | None:
        """Forget ``name`` (or the canonical name an alias points to) and all its aliases."""
        canonical = self._canonical.get(name, name)
        value = self.values.pop(canonical, None)
        for alias in [a for a, c in self._canonical.items() if c == canonical]:
            del self._canonical[alias]
        return value

    def canonical(self, name: str) -> str | None:
        return self._canonical.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.values))


@functools.cache
def import_modules(package: str) -> None:
    """Import every module of ``package`` once, so the plug-ins they register are known."""
    for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{module.name}")
