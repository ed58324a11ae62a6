"""Frozen dataclass trees (the folds' states) as plain data and back: dicts, lists, numbers, strings.

A fold's state must survive a checkpoint, so it is written as plain data and
rebuilt from the dataclass's type hints; nothing is pickled.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """``value`` (dataclasses, tuples, mappings, scalars) as dicts, lists and scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [to_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf", "-inf", "nan": JSON has no such numbers (orjson would write null)
    return value


def from_plain(kind: Any, doc: Any) -> Any:
    """``doc`` read back as type ``kind`` (a dataclass, ``tuple[X, ...]``, ``Mapping[K, V]``, ``X | None``, scalar)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = _hints(kind)
        return kind(**{name: from_plain(hints[name], v) for name, v in doc.items()})
    if origin in (typing.Union, types.UnionType):
        if doc is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return from_plain(inner, doc)
    if origin is tuple:
        inner = args[0]
        return tuple(from_plain(inner, v) for v in doc)
    if origin in (Mapping, dict):
        key, value = args
        return {from_plain(key, k): from_plain(value, v) for k, v in doc.items()}
    if kind is float:
        return float(doc)  # a number, or "inf" / "-inf" / "nan"
    if kind is int:
        return int(doc)
    return doc


@cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)
