"""Field checks for JSON records, each naming the source, record and field on failure.

These are the slow, exact path: the readers first try a vectorised fast path
and only walk records here when something is wrong, to say precisely what.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

from analysis.exceptions import InvalidInput

_MISSING = object()
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # ids and counts are stored as int64


def describe(value: Any) -> str:
    """A short human description of a JSON value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        text = value if len(value) <= 20 else value[:17] + "..."
        return f"string {text!r}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def as_list(value: Any, source: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(source, where, f"expected a list, got {describe(value)}")
    return value


def as_record(value: Any, source: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(source, where, f"expected an object, got {describe(value)}")
    return value


def field(rec: Mapping[str, Any], key: str, source: str, where: str) -> Any:
    if key not in rec:
        raise InvalidInput(source, where, f"missing required field '{key}'")
    return rec[key]


def integer(
    value: Any, source: str, where: str, *, minimum: int | None = None, maximum: int | None = None,
) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(source, where, f"expected an integer, got {describe(value)}")
    if minimum is not None and value < minimum:
        raise InvalidInput(source, where, f"must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InvalidInput(source, where, f"must be <= {maximum}, got {value}")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidInput(source, where, f"does not fit in 64 bits, got {value}")
    return value


def number(
    value: Any, source: str, where: str, *,
    minimum: float | None = None, maximum: float | None = None, above: float | None = None,
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(source, where, f"expected a number, got {describe(value)}")
    if isinstance(value, int) and not -sys.float_info.max <= value <= sys.float_info.max:  # no float holds it
        raise InvalidInput(source, where, f"must be finite, got an integer of {value.bit_length()} bits")
    if not math.isfinite(value):
        raise InvalidInput(source, where, f"must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise InvalidInput(source, where, f"must be >= {minimum}, got {value}")
    if above is not None and value <= above:
        raise InvalidInput(source, where, f"must be > {above}, got {value}")
    if maximum is not None and value > maximum:
        raise InvalidInput(source, where, f"must be <= {maximum}, got {value}")
    return float(value)


def text(value: Any, source: str, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(source, where, f"expected a string, got {describe(value)}")
    return value


def flag(value: Any, source: str, where: str) -> bool:
    """COCO writes flags as 0/1; booleans are accepted too."""
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    raise InvalidInput(source, where, f"expected 0, 1, true or false, got {describe(value)}")


def box(value: Any, source: str, where: str) -> tuple[float, float, float, float]:
    items = as_list(value, source, where)
    if len(items) != 4:
        raise InvalidInput(source, where, f"expected [x, y, width, height], got {len(items)} values")
    x, y, w, h = (number(v, source, f"{where}[{i}]") for i, v in enumerate(items))
    if w < 0:
        raise InvalidInput(source, where, "width is negative")
    if h < 0:
        raise InvalidInput(source, where, "height is negative")
    return x, y, w, h


def tags(value: Any, source: str, where: str) -> dict[str, str]:
    """Image-level tags: an object of category name -> value (both strings)."""
    rec = as_record(value, source, where)
    for key, tag in rec.items():
        if not isinstance(tag, str):
            raise InvalidInput(source, f"{where}.{key}", f"expected a string, got {describe(tag)}")
    return dict(rec)


def attributes(value: Any, source: str, where: str) -> dict[str, Any]:
    """Object attributes: an object of scalar values (string, number, boolean)."""
    rec = as_record(value, source, where)
    for key, item in rec.items():
        if isinstance(item, list | dict) or item is None:
            raise InvalidInput(
                source, f"{where}.{key}", f"expected a string, number or boolean, got {describe(item)}"
            )
    return dict(rec)
