"""One-line reasons for invalid messages, in the words of ``analysis/annotations/checks.py``.

pydantic reports every error with its location; a dead letter needs one line
naming the first bad field, e.g. ``objects[3].bbox: width is negative``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from analysis.annotations.checks import describe
from services.loop.messages.fields import BOX_PARTS

Loc = tuple[int | str, ...]

EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "float_type": "a number", "float_parsing": "a number",
    "string_type": "a string", "bool_type": "true or false", "bool_parsing": "true or false",
    "list_type": "a list", "tuple_type": "a list", "dict_type": "an object", "model_type": "an object",
    "model_attributes_type": "an object", "none_required": "null",
}
SCALAR_MEMBERS = {"bool": "bool_type", "int": "int_type", "float": "float_type", "str": "string_type"}
BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("<=", "le"),
          "less_than": ("<", "lt")}


def reason(exc: ValidationError) -> str:
    """``where: problem`` for the first error of ``exc`` (just ``problem`` when it is about the whole message)."""
    where, problem = explain(exc.errors(include_url=False)[0])
    return f"{where}: {problem}" if where else problem


def explain(error: ErrorDetails) -> tuple[str, str]:
    """The place (``objects[3].bbox``) and the problem of one pydantic error."""
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if len(loc) > 1 and SCALAR_MEMBERS.get(str(loc[-1])) == kind:  # no member of an attribute's union matched
        return where_of(loc[:-1]), f"expected a string, number or boolean, got {describe(value)}"
    box = _box_part(loc)
    if box is not None:
        return _box_problem(loc, box, kind, value, ctx)
    if kind == "missing":
        return where_of(loc[:-1]), f"missing required field '{loc[-1]}'"
    if loc == ("schema_version",) and kind == "literal_error" and type(value) is int:
        return "", f"schema_version {value} is not supported"
    return where_of(loc), problem_of(loc, kind, value, ctx)


def problem_of(loc: Loc, kind: str, value: Any, ctx: dict[str, Any]) -> str:
    """What is wrong with one value."""
    if kind == "json_invalid":
        return f"not JSON ({ctx.get('error', 'invalid')})"
    if kind in EXPECTED:
        return f"expected {EXPECTED[kind]}, got {describe(value)}"
    if kind in BOUNDS:
        sign, key = BOUNDS[kind]
        return f"must be {sign} {ctx[key]}, got {value}"
    if kind == "finite_number":
        return f"must be finite, got {value}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the documented values')}, got {describe(value)}"
    if kind == "string_too_short":
        return "is empty"
    if kind == "string_too_long":
        return f"longer than {ctx.get('max_length', 'allowed')} characters"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", "invalid value"))
    return str(kind).replace("_", " ")


def where_of(loc: Sequence[int | str]) -> str:
    """``("objects", 3, "bbox")`` -> ``objects[3].bbox``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _box_part(loc: Loc) -> int | None:
    """The length of the box's own location if the error is about a COCO box or one of its numbers."""
    for end in (len(loc), len(loc) - 1):
        box = loc[:end]
        if (box and box[-1] == "bbox") or (len(box) >= 2 and box[-2] == "boxes" and isinstance(box[-1], int)):
            return end
    return None


def _box_problem(loc: Loc, end: int, kind: str, value: Any, ctx: dict[str, Any]) -> tuple[str, str]:
    """Box errors in the words of ``checks.box``: a wrong number of values, a negative width or height."""
    box_where, inside = where_of(loc[:end]), loc[end:]
    if kind == "too_long":
        return box_where, f"expected [x, y, width, height], got {ctx.get('actual_length', 'more than 4')} values"
    if inside and kind == "missing":
        count = len(value) if isinstance(value, list | tuple) else inside[0]
        return box_where, f"expected [x, y, width, height], got {count} values"
    if inside and kind == "greater_than_equal" and inside[0] in (2, 3):
        return box_where, f"{BOX_PARTS[int(inside[0])]} is negative"
    return where_of(loc), problem_of(loc, kind, value, ctx)
