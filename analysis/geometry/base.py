"""The contract a geometry kind (2D box, mask, polygon; later 3D cuboid) fulfils.

A kind is one module of ``analysis/geometry/`` registered by name
(:func:`analysis.geometry.registry.register`). It knows its wire form (a tagged
mapping ``{"type": name, ...}``), how one object's value is stored in a column
block of :class:`Objects` (``Objects.geometry[name]``), the area and vertical
extent the QA spec's size rules read, and its IoU for the matcher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from analysis.annotations.model import FloatArray, IntArray, Objects


class Geometry(Protocol):
    """Overlap between objects of one geometry kind, evaluated on index pairs."""

    kind: str

    def pair_iou(self, dt: Objects, gt: Objects, dt_idx: IntArray, gt_idx: IntArray) -> FloatArray:
        """IoU of each ``(dt[dt_idx[k]], gt[gt_idx[k]])``; for a crowd ground-truth
        region the intersection is divided by the detection's area instead."""
        ...


class GeometryKind(Geometry, Protocol):
    """A registered kind: a :class:`Geometry` plus its wire form, column storage and size."""

    aliases: tuple[str, ...]  # other names the kind answers to (``box`` for ``box2d``)

    def read(self, doc: Mapping[str, Any], source: str, where: str) -> Any:
        """One object's value from its tagged wire mapping; raises ``InvalidInput`` naming the bad field."""
        ...

    def write(self, value: Any) -> dict[str, Any]:
        """The tagged wire mapping of one object's value (``read`` gives the value back)."""
        ...

    def column(self, values: Sequence[Any]) -> Any:
        """The column block holding ``values`` (indexable by an int array through ``Objects.take``)."""
        ...

    def area(self, column: Any) -> FloatArray:
        """Each object's area (what the spec's ``min_area`` and COCO's area ranges compare)."""
        ...

    def extent(self, column: Any) -> FloatArray:
        """Each object's height (what the spec's ``min_height`` compares)."""
        ...
