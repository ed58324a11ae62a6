"""A step kind's parameters as a frozen dataclass, read from the spec's ``params`` mapping with errors that
name the file and the field.

Fields are ``int``, ``float``, ``bool`` or ``str``; ``field(metadata={"minimum": m, "maximum": M})``
bounds a number, ``{"choices": (...)}`` a string. Unknown names are refused, missing ones take their
defaults (a field without a default is required); a ``ValueError`` from the dataclass's ``__post_init__`` (a
check across parameters) is reported against the whole ``params``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import orjson

from analysis.annotations.checks import describe
from services.engine.chain.exceptions import InvalidPipeline

P = TypeVar("P")


def parse_params(cls: type[P], raw: Mapping[str, Any], source: str, where: str) -> P:
    """``cls`` built from ``raw``; :class:`InvalidPipeline` names ``source: where.name`` for a bad entry."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise InvalidPipeline(source, f"{where}.{unknown[0]}", f"unknown parameter (known: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name in raw:
            values[name] = _value(hints[name], f.metadata, raw[name], source, f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InvalidPipeline(source, f"{where}.{name}", "required parameter missing")
    try:
        return cls(**values)
    except ValueError as exc:  # a check across parameters, in the dataclass's __post_init__
        raise InvalidPipeline(source, where, str(exc)) from None


def _value(hint: Any, meta: Mapping[str, Any], value: Any, source: str, where: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidPipeline(source, where, f"expected true or false, got {describe(value)}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise InvalidPipeline(source, where, f"expected a string, got {describe(value)}")
        choices = meta.get("choices")
        if choices is not None and value not in choices:
            raise InvalidPipeline(source, where, f"expected one of {', '.join(choices)}, got {value!r}")
        return value
    return _number(hint, meta, value, source, where)


def _number(hint: Any, meta: Mapping[str, Any], value: Any, source: str, where: str) -> int | float:
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidPipeline(source, where, f"expected an integer, got {describe(value)}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidPipeline(source, where, f"expected a finite number, got {describe(value)}")
    low, high = meta.get("minimum"), meta.get("maximum")
    if low is not None and value < low:
        raise InvalidPipeline(source, where, f"must be >= {low}, got {value}")
    if high is not None and value > high:
        raise InvalidPipeline(source, where, f"must be <= {high}, got {value}")
    return int(value) if hint is int else float(value)


def as_mapping(params: Any) -> dict[str, Any]:
    """A params dataclass as a plain mapping, for the manifest and the version hash."""
    return dataclasses.asdict(params)


def params_hash(params: Mapping[str, Any]) -> str:
    """8 hex digits of the canonical JSON of ``params``: a step version that changes with any parameter."""
    return hashlib.sha256(orjson.dumps(params, option=orjson.OPT_SORT_KEYS)).hexdigest()[:8]
