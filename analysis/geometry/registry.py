"""Geometry kinds by name: a kind registers itself; readers, the matcher and the wire look it up."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import FloatArray, Objects
from analysis.exceptions import InvalidInput
from analysis.geometry.base import GeometryKind
from analysis.names import Names

K = TypeVar("K")

_KINDS: Names[GeometryKind] = Names("geometry kind")
GEOMETRIES = _KINDS.values  # canonical name -> kind


def register(cls: Callable[[], K]) -> Callable[[], K]:
    """Class decorator: make an instance of ``cls`` known by its ``kind`` and ``aliases``."""
    kind: Any = cls()
    _KINDS.add(kind.kind, kind.aliases, kind)
    return cls


def unregister(name: str) -> None:
    """Forget kind ``name`` and its aliases (for tests that register a kind of their own)."""
    _KINDS.remove(name)


def known() -> tuple[str, ...]:
    return _KINDS.names()


def get_geometry(kind: str) -> GeometryKind:
    """The kind named ``kind`` (or one of its aliases); the error lists the known kinds."""
    canonical = _KINDS.canonical(kind)
    if canonical is None:
        raise InvalidInput("options", "geometry", f"unknown kind '{kind}' (known: {list(known())})")
    return GEOMETRIES[canonical]


def read_geometry(doc: Any, source: str, where: str) -> tuple[str, Any]:
    """``(kind, value)`` of a tagged wire mapping ``{"type": kind, ...}``."""
    name = doc.get("type") if type(doc) is dict else None
    if type(name) is str and name in GEOMETRIES:  # the common case, without the exact checks' calls
        return name, GEOMETRIES[name].read(doc, source, where)
    rec = checks.as_record(doc, source, where)
    name = checks.text(checks.field(rec, "type", source, where), source, f"{where}.type")
    if name not in GEOMETRIES:
        raise InvalidInput(source, f"{where}.type", f"unknown geometry kind {name!r} (known: {list(known())})")
    return name, GEOMETRIES[name].read(rec, source, where)


def write_geometry(kind: str, value: Any) -> dict[str, Any]:
    """The tagged wire mapping of one object's ``value`` of ``kind``."""
    return get_geometry(kind).write(value)


def primary_kind(objects: Objects) -> str | None:
    """The kind size rules read: ``box2d`` when objects have boxes, else their only kind."""
    blocks: Mapping[str, Any] = objects.geometry
    if "box2d" in blocks or not blocks:
        return "box2d" if blocks else None
    return next(iter(blocks))


def extent_of(objects: Objects) -> FloatArray:
    """Each object's height by its primary kind (zeros when objects carry no geometry)."""
    name = primary_kind(objects)
    if name is None:
        return np.zeros(len(objects), dtype=np.float64)
    return get_geometry(name).extent(objects.geometry[name])
