"""Tagged geometry on the wire: ``{"type": "box2d", "xywh": [x, y, w, h]}`` and every other registered kind.

A :class:`Shape` is read once, when a message is validated, by its kind's
reader in ``analysis/geometry`` (which checks finite numbers and sizes), and
keeps the value the comparator builds its columns from; it is written back by
the kind's writer. Messages know no kind by name except the box of version 1
(``boxes`` / ``bbox``), which they read as ``box2d``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from analysis.exceptions import InvalidInput
from analysis.geometry import read_geometry, write_geometry

V1_BOX = "box2d"  # the kind of a version 1 message's boxes


class Shape(NamedTuple):
    """One object's geometry: its kind's name and the value that kind's reader gave."""

    kind: str
    value: Any

    def wire(self) -> dict[str, Any]:
        return write_geometry(self.kind, self.value)

    @classmethod
    def box(cls, xywh: tuple[float, float, float, float]) -> Shape:
        """A version 1 box as the ``box2d`` shape it stands for."""
        return cls(V1_BOX, tuple(xywh))

    @classmethod
    def read(cls, doc: Any) -> Shape:
        """The shape of a tagged wire mapping; ``ValueError`` names the bad field inside it."""
        return _read(doc)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _read, serialization=core_schema.plain_serializer_function_ser_schema(lambda s: s.wire()))


def _read(doc: Any) -> Shape:
    """A shape from its wire mapping; a shape built in Python is checked by its kind's reader too."""
    if isinstance(doc, Shape):
        doc = doc.wire()
    try:
        return _new(Shape, read_geometry(doc, "", ""))
    except InvalidInput as exc:
        where = exc.where.lstrip(".")
        raise ValueError(f"{where}: {exc.problem}" if where else exc.problem) from None


_new = tuple.__new__
