"""An OpenLABEL 1.0 document as shadowqa reads it: the parts it understands, as plain values.

Reading a file and writing the document back gives the same document; what is not listed here
(other object data such as ``poly2d``, actions, events, relations, ontologies, nested attributes of
object data, element data pointers, which the writer recomputes) is not kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Interval = tuple[int, int]  # frame_start, frame_end (both included)
Scalar = str | int | float | bool
SHAPE_KINDS = ("bbox", "cuboid")
VALUE_KINDS = ("text", "num", "boolean")
SCHEMA_VERSION = "1.0.0"


@dataclass(frozen=True)
class Shape:
    """One ``bbox`` or ``cuboid`` element data.

    ``val`` is the bbox's ``[cx, cy, w, h]`` (centre, pixels), or the cuboid's 9 numbers
    ``[x, y, z, rx, ry, rz, sx, sy, sz]`` (Euler angles, R = Rz·Ry·Rx) or 10 numbers
    ``[x, y, z, qx, qy, qz, qw, sx, sy, sz]`` (a quaternion, scalar last). ``legacy`` marks a cuboid
    given in VCD 4's form (``quaternion`` [x, y, z, w], ``traslation``, ``size``, ``val: null``):
    its ``val`` holds the same 10 numbers and it is written back in that form.
    """

    kind: str
    name: str
    val: tuple[float, ...]
    coordinate_system: str = ""
    legacy: bool = False


@dataclass(frozen=True)
class Value:
    """One ``text``, ``num`` or ``boolean`` element data."""

    kind: str
    name: str
    val: Scalar


@dataclass(frozen=True)
class ElementData:
    """The object (or context) data of an element, static or on one frame, in file order."""

    shapes: tuple[Shape, ...] = ()
    values: tuple[Value, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.shapes or self.values)


@dataclass(frozen=True)
class Element:
    """An object (``type``: its class) or a context, with its static data and frame intervals."""

    name: str
    type: str
    data: ElementData = ElementData()
    frame_intervals: tuple[Interval, ...] = ()

    def exists_at(self, frame: int) -> bool:
        """Whether the element exists on ``frame`` (an element without intervals exists on all)."""
        return not self.frame_intervals or any(a <= frame <= b for a, b in self.frame_intervals)


@dataclass(frozen=True)
class Frame:
    """One frame: dynamic object and context data by uid, and its ``frame_properties`` as given."""

    objects: Mapping[str, ElementData] = field(default_factory=dict)
    contexts: Mapping[str, ElementData] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenLabel:
    """The ``openlabel`` root. Metadata, coordinate systems and streams are kept as given."""

    metadata: Mapping[str, Any] = field(default_factory=lambda: {"schema_version": SCHEMA_VERSION})
    objects: Mapping[str, Element] = field(default_factory=dict)
    contexts: Mapping[str, Element] = field(default_factory=dict)
    frames: Mapping[int, Frame] = field(default_factory=dict)
    frame_intervals: tuple[Interval, ...] = ()
    coordinate_systems: Mapping[str, Any] = field(default_factory=dict)
    streams: Mapping[str, Any] = field(default_factory=dict)


def intervals(frames: list[int]) -> tuple[Interval, ...]:
    """The runs of consecutive frame numbers in sorted ``frames``, as OpenLABEL frame intervals."""
    out: list[Interval] = []
    for f in frames:
        if out and f == out[-1][1] + 1:
            out[-1] = (out[-1][0], f)
        elif not out or f > out[-1][1]:
            out.append((f, f))
    return tuple(out)
