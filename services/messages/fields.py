"""Field types shared by the messages of docs/streaming.md, and their common base class.

Messages read from the wire (:func:`services.messages.decode`) are validated
strictly — no ``"3"`` for 3, no 0/1 for booleans, ``schema_version`` required —
because a missing or mistyped known field makes a message invalid; numbers must
be finite, and fields the contract does not know are ignored (forward
compatibility). Messages built in Python are validated leniently (a list for a
box, ``schema_version`` 1 by default) since our own code builds them.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationInfo
from pydantic_core import PydanticCustomError

INT64_MAX = 2**63 - 1

WIRE = "wire"  # validation context key: the message came from a topic (decode sets it)
_UNSET = object()


def _version_given_on_the_wire(value: Any, info: ValidationInfo) -> Any:
    """``schema_version`` defaults to 1 for messages built in Python, but a message from a topic must carry it."""
    if value is not _UNSET:
        return value
    if info.context and info.context.get(WIRE):
        raise PydanticCustomError("missing", "Field required")
    return 1


SchemaVersion = Annotated[Literal[1], BeforeValidator(_version_given_on_the_wire)]
FrameId = Annotated[str, Field(min_length=1)]
Text = Annotated[str, Field(min_length=1)]
Seq = Annotated[int, Field(ge=0, le=INT64_MAX)]
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
Offset = Annotated[int, Field(ge=0, le=INT64_MAX)]
Version = Annotated[int, Field(ge=0, le=INT64_MAX)]
CategoryId = Annotated[int, Field(ge=0, le=INT64_MAX)]
Copy = Literal[1, 2]
Time = Annotated[float, Field(ge=0.0)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]  # a probability or rate in [0, 1]
InclusionProb = Annotated[float, Field(gt=0.0, le=1.0)]  # π: a compared frame had a chance > 0
OpenUnit = Annotated[float, Field(gt=0.0, lt=1.0)]
Threshold = Annotated[float, Field(ge=0.0, le=1.0)]  # τ; null (None) stands for "nothing ships"
Milliseconds = Annotated[float, Field(ge=0.0)]
Box = tuple[float, float, Annotated[float, Field(ge=0.0)], Annotated[float, Field(ge=0.0)]]  # COCO [x, y, w, h]
Tags = dict[str, str]

Scalar = StrictBool | int | float | str  # an attribute value; reasons.py words a mismatch as one error
Attributes = dict[str, Scalar]

BOX_PARTS = ("x", "y", "width", "height")


class Message(BaseModel):
    """Base of every message: JSON with ``schema_version`` 1, unknown fields ignored.

    ``KIND`` is the name of the topic the message travels on (without prefix);
    error reasons start with it.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    KIND: ClassVar[str] = ""

    schema_version: SchemaVersion = Field(default=_UNSET, validate_default=True)


def check_lengths(boxes: int, category_ids: int, scores: int) -> None:
    """A machine annotation lists one category id and one score per box."""
    if category_ids != boxes:
        raise ValueError(f"category_ids: {category_ids} values for {boxes} boxes")
    if scores != boxes:
        raise ValueError(f"scores: {scores} values for {boxes} boxes")
