"""Field types shared by the messages of docs/streaming.md, and their common base class.

Messages read from the wire (:func:`services.loop.messages.decode`) are validated
strictly — no ``"3"`` for 3, no 0/1 for booleans, ``schema_version`` required —
because a missing or mistyped known field makes a message invalid; numbers must
be finite, and fields the contract does not know are ignored (forward
compatibility). Messages built in Python are validated leniently (a list for a
box, ``schema_version`` 1 by default) since our own code builds them.

What people send (through the API) is bounded by these same types, so nothing
is stored that cannot be encoded and published: integers in the signed 64-bit
range, finite numbers, valid Unicode text (no lone surrogates, which UTF-8
cannot encode, and no NUL, which PostgreSQL text refuses), and bounded lengths
and counts (:data:`KEY_MAX`, :data:`TAG_VALUE_MAX`, :data:`TEXT_VALUE_MAX`,
:data:`ENTRIES_MAX`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationInfo
from pydantic_core import PydanticCustomError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
KEY_MAX = 64  # characters of a tag or attribute name
TAG_VALUE_MAX = 256  # characters of a tag's value
TEXT_VALUE_MAX = 1024  # characters of an attribute's text value
ENTRIES_MAX = 64  # tags of a frame, attributes of an object

WIRE = "wire"  # validation context key: the message came from a topic (decode sets it)
_UNSET = object()


def _version_given_on_the_wire(value: Any, info: ValidationInfo) -> Any:
    """``schema_version`` defaults to 1 for messages built in Python, but a message from a topic must carry it."""
    if value is not _UNSET:
        return value
    if info.context and info.context.get(WIRE):
        raise PydanticCustomError("missing", "Field required")
    return 1


def valid_text(value: str) -> str:
    """``value`` if it can be encoded as UTF-8 and stored as text: no lone surrogate, no NUL character."""
    if "\x00" in value:
        raise ValueError(f"text may not contain NUL (U+0000), found at position {value.index(chr(0))}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode: a lone surrogate at position {exc.start}") from None
    return value


def bounded_scalar(value: Any) -> Any:
    """An attribute value that JSON, Kafka and the database all take: a 64-bit integer, a finite number, or valid
    text of at most TEXT_VALUE_MAX characters (booleans as they are)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"integer out of the signed 64-bit range [{INT64_MIN}, {INT64_MAX}]")
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("finite_number", "Input should be a finite number")
    if isinstance(value, str):
        if len(value) > TEXT_VALUE_MAX:
            raise ValueError(f"text of at most {TEXT_VALUE_MAX} characters, got {len(value)}")
        valid_text(value)
    return value


def _version_2_by_default(value: Any, info: ValidationInfo) -> Any:
    """As :func:`_version_given_on_the_wire`, for the messages whose current schema is version 2."""
    version = _version_given_on_the_wire(value, info)
    return 2 if value is _UNSET else version


def version_field() -> Any:
    """The ``schema_version`` field: required on the wire, defaulted for messages built in Python."""
    return Field(default=_UNSET, validate_default=True)


SchemaVersion = Annotated[Literal[1], BeforeValidator(_version_given_on_the_wire)]
# messages carrying tagged geometry: version 2; version 1 (``boxes`` / ``bbox``) is still read
SchemaVersion2 = Annotated[Literal[1, 2], BeforeValidator(_version_2_by_default)]
ValidText = Annotated[str, AfterValidator(valid_text)]  # any length, possibly empty
Text = Annotated[str, Field(min_length=1), AfterValidator(valid_text)]
FrameId = Text
Key = Annotated[str, Field(min_length=1, max_length=KEY_MAX), AfterValidator(valid_text)]
TagValue = Annotated[str, Field(max_length=TAG_VALUE_MAX), AfterValidator(valid_text)]
Label = Annotated[str, Field(max_length=255), AfterValidator(valid_text)]  # a stratum; the database keeps 255
TASK_ID_MAX = 255  # characters of a task id: the database's column
TaskId = Annotated[str, Field(min_length=1, max_length=TASK_ID_MAX), AfterValidator(valid_text)]  # as people send it
Finite = Annotated[float, Field(allow_inf_nan=False)]
Length = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
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
Box = tuple[Finite, Finite, Length, Length]  # COCO [x, y, w, h]
Tags = Annotated[dict[Key, TagValue], Field(max_length=ENTRIES_MAX)]

# an attribute value; reasons.py words a mismatch of every member as one error
Scalar = Annotated[StrictBool | int | float | str, AfterValidator(bounded_scalar)]
Attributes = Annotated[dict[Key, Scalar], Field(max_length=ENTRIES_MAX)]

BOX_PARTS = ("x", "y", "width", "height")


class Message(BaseModel):
    """Base of every message: JSON with ``schema_version`` 1, unknown fields ignored.

    ``KIND`` is the name of the topic the message travels on (without prefix);
    error reasons start with it.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    KIND: ClassVar[str] = ""

    schema_version: SchemaVersion = version_field()


def check_lengths(objects: int, category_ids: int, scores: int, what: str = "geometries") -> None:
    """A machine annotation lists one category id and one score per object (``what``: how they are listed)."""
    if category_ids != objects:
        raise ValueError(f"category_ids: {category_ids} values for {objects} {what}")
    if scores != objects:
        raise ValueError(f"scores: {scores} values for {objects} {what}")
