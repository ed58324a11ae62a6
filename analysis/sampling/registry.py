"""Sampling policies found by name, so config, CLI and Helm values can pick one without the loop branching.

The interface the loop uses (its config holds ``sampling: {kind, params}``):

- ``build_policy(kind, params) -> SamplingPolicy``: the policy registered as ``kind``, its parameters
  validated (an unknown kind or parameter raises :class:`InvalidPolicy` naming it and listing the known ones);
- ``policy_names()``: the registered kinds, for ``--help`` and validation messages;
- ``policy_params(kind)``: the parameter names a kind takes (``"floor" in policy_params(kind)``);
- ``parse_params(["scale=0.3", "targets.night=40"])``: CLI/Helm strings to a params mapping
  (numbers parsed, dotted names nested: ``{"scale": 0.3, "targets": {"night": 40}}``).

A policy registers itself with ``@register("name")`` (or ``@register("name", "alias", ...)``) on its class, in
any module of ``analysis/sampling/``; names and aliases are kept in the :class:`~analysis.names.Names` table the
geometry and dataset registries use, and every lookup takes either.
the registry imports every module of the package at its first lookup, so adding a policy is one module and
its test, nothing else edited. A frozen dataclass is built from its init fields (numbers, mappings of numbers,
strings, and a nested policy given as ``{"kind": ..., **its params}``); a field with
``metadata={"param": False}`` is state, not a parameter. A class with a ``from_params(params)`` classmethod
builds itself.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from analysis.exceptions import InvalidInput
from analysis.names import Names, import_modules
from analysis.sampling.exceptions import InvalidPolicy

if typing.TYPE_CHECKING:
    from analysis.sampling.policies import SamplingPolicy

T = TypeVar("T")
SOURCE = "sampling policy"
_KINDS: Names[type[Any]] = Names(SOURCE)


def register(name: str, *aliases: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: the policy is built by ``build_policy(name, params)`` (or by one of ``aliases``)."""
    def decorate(cls: type[T]) -> type[T]:
        known = _KINDS.values.get(name)
        if known is not None and known.__qualname__ != cls.__qualname__:  # the same class again: a reload
            raise InvalidPolicy(SOURCE, f"kind {name!r}", f"already registered by {known.__qualname__}")
        try:
            _KINDS.add(name, aliases, cls)
        except InvalidInput as exc:
            raise InvalidPolicy(SOURCE, f"kind {exc.where!r}", exc.problem) from None
        return cls
    return decorate


def policy_names() -> tuple[str, ...]:
    """The registered kinds (canonical names), sorted."""
    _discover()
    return _KINDS.names()


def _kind(name: str) -> type[Any] | None:
    canonical = _KINDS.canonical(name)
    return None if canonical is None else _KINDS.values[canonical]


def build_policy(kind: str, params: Mapping[str, Any] | None = None) -> SamplingPolicy:
    """The policy registered as ``kind`` with ``params`` validated; InvalidPolicy names what is wrong."""
    _discover()
    cls = _kind(kind)
    if cls is None:
        raise InvalidPolicy(SOURCE, f"kind {kind!r}", f"unknown; known kinds: {', '.join(policy_names())}")
    params = dict(params or {})
    builder = getattr(cls, "from_params", None)
    if builder is not None:
        return typing.cast("SamplingPolicy", builder(params))
    policy = cls(**_coerce_params(kind, cls, params))
    return typing.cast("SamplingPolicy", policy)


def policy_params(kind: str) -> tuple[str, ...]:
    """The parameter names ``kind`` accepts (of a dataclass policy), e.g. to pass the loop's audit floor
    as ``floor`` only to policies that take one."""
    _discover()
    cls = _kind(kind)
    return tuple(_param_fields(cls)) if cls is not None and dataclasses.is_dataclass(cls) else ()


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``["scale=0.3", "targets.night=40", "inner.kind=uniform"]`` → nested dict, numbers parsed."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        path = key.strip().split(".")
        if not sep or not all(path):
            raise InvalidPolicy("sampling params", repr(item), "expected name=value (dotted names nest)")
        node = out
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InvalidPolicy("sampling params", repr(item), f"{part!r} already has a value")
            node = child
        if path[-1] in node:
            raise InvalidPolicy("sampling params", repr(item), f"{key.strip()!r} given twice")
        node[path[-1]] = _scalar(raw.strip())
    return out


def _scalar(raw: str) -> Any:
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def _discover() -> None:
    import_modules("analysis.sampling")


def _param_fields(cls: type[Any]) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(cls) if f.init and f.metadata.get("param", True)}


def _coerce_params(kind: str, cls: type[Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Params checked against the dataclass's init fields and converted to their types."""
    fields = _param_fields(cls)
    known = ", ".join(fields) or "none"
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise InvalidPolicy(SOURCE, f"{kind}.{unknown[0]}", f"unknown parameter; {kind} takes: {known}")
    missing = [name for name, f in fields.items() if name not in params and _required(f)]
    if missing:
        raise InvalidPolicy(SOURCE, f"{kind}.{missing[0]}", f"required parameter missing; {kind} takes: {known}")
    hints = typing.get_type_hints(cls)
    return {name: _coerce(f"{kind}.{name}", hints[name], value) for name, value in params.items()}


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _coerce(where: str, hint: Any, value: Any) -> Any:
    from analysis.sampling.policies import SamplingPolicy

    if hint is float or hint is int:
        return _number(where, hint, value)
    if hint is str:
        if not isinstance(value, str):
            raise InvalidPolicy(SOURCE, where, f"expected a string, got {value!r}")
        return value
    if typing.get_origin(hint) is Mapping:
        if not isinstance(value, Mapping):
            raise InvalidPolicy(SOURCE, where, f"expected a mapping of name to value, got {value!r}")
        inner = typing.get_args(hint)[1]
        return {str(k): _coerce(f"{where}[{k}]", inner, v) for k, v in value.items()}
    if hint is SamplingPolicy:
        return _nested_policy(where, value)
    return value


def _number(where: str, hint: Any, value: Any) -> float | int:
    if isinstance(value, str):
        value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPolicy(SOURCE, where, f"expected a number, got {value!r}")
    if hint is int:
        if not (math.isfinite(value) and float(value).is_integer()):
            raise InvalidPolicy(SOURCE, where, f"expected a whole number, got {value!r}")
        return int(value)
    return float(value)


def _nested_policy(where: str, value: Any) -> SamplingPolicy:
    """A wrapped policy: ``{"kind": ..., **params}``, a bare kind name, or a policy already built."""
    if isinstance(value, str):
        return build_policy(value, {})
    if isinstance(value, Mapping):
        if "kind" not in value:
            raise InvalidPolicy(SOURCE, where, f"a nested policy needs 'kind' (one of {', '.join(policy_names())})")
        return build_policy(str(value["kind"]), {k: v for k, v in value.items() if k != "kind"})
    if callable(getattr(value, "probability", None)):
        return typing.cast("SamplingPolicy", value)
    raise InvalidPolicy(SOURCE, where, f"expected a nested policy {{kind: ..., params}}, got {value!r}")
