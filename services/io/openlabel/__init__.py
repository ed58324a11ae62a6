"""ASAM OpenLABEL 1.0 files: read into a document (:mod:`.document`), written back, and converted
to and from shadowqa's annotation model (:mod:`.convert` says how each part maps)."""

from services.io.openlabel.convert import KINDS, SCORE, to_annotations
from services.io.openlabel.document import Element, ElementData, Frame, OpenLabel, Shape, Value
from services.io.openlabel.from_annotations import from_annotations
from services.io.openlabel.read import is_openlabel, read_openlabel
from services.io.openlabel.write import write_openlabel

__all__ = [
    "KINDS",
    "SCORE",
    "Element",
    "ElementData",
    "Frame",
    "OpenLabel",
    "Shape",
    "Value",
    "from_annotations",
    "is_openlabel",
    "read_openlabel",
    "to_annotations",
    "write_openlabel",
]
