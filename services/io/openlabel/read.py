"""OpenLABEL 1.0 JSON (already parsed) into an :class:`OpenLabel` document, checked field by field.

Errors name the place below the ``openlabel`` root, e.g.
``objects.3.object_data.cuboid[0].val: expected 9 or 10 numbers, got 8 values``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.annotations import checks
from analysis.exceptions import InvalidInput
from services.io.openlabel.document import (
    SCHEMA_VERSION,
    SHAPE_KINDS,
    VALUE_KINDS,
    Element,
    ElementData,
    Frame,
    Interval,
    OpenLabel,
    Shape,
    Value,
)

_SIZES = {"bbox": (4,), "cuboid": (9, 10)}


def is_openlabel(doc: Any) -> bool:
    """Whether a parsed JSON document is OpenLABEL (has the ``openlabel`` root)."""
    return isinstance(doc, dict) and "openlabel" in doc


def read_openlabel(doc: Any, source: str) -> OpenLabel:
    """The document under ``doc["openlabel"]``; refuses a schema version other than 1.0.x."""
    root = checks.as_record(checks.field(checks.as_record(doc, source, ""), "openlabel", source, ""),
                            source, "openlabel")
    metadata = checks.as_record(checks.field(root, "metadata", source, ""), source, "metadata")
    version = checks.text(checks.field(metadata, "schema_version", source, "metadata"), source,
                          "metadata.schema_version")
    if version.split(".")[:2] != SCHEMA_VERSION.split(".")[:2]:
        raise InvalidInput(source, "metadata.schema_version", f"OpenLABEL {version} is not supported (only 1.0)")
    systems = dict(checks.as_record(root.get("coordinate_systems", {}), source, "coordinate_systems"))
    objects = {uid: _element(rec, source, f"objects.{uid}", "object", systems)
               for uid, rec in checks.as_record(root.get("objects", {}), source, "objects").items()}
    contexts = {uid: _element(rec, source, f"contexts.{uid}", "context", systems)
                for uid, rec in checks.as_record(root.get("contexts", {}), source, "contexts").items()}
    frames = _frames(root.get("frames", {}), source, objects, contexts, systems)
    return OpenLabel(
        metadata=dict(metadata), objects=objects, contexts=contexts, frames=frames,
        frame_intervals=_intervals(root.get("frame_intervals", []), source, "frame_intervals"),
        coordinate_systems=systems,
        streams=dict(checks.as_record(root.get("streams", {}), source, "streams")),
    )


def _element(value: Any, source: str, where: str, what: str, systems: Mapping[str, Any]) -> Element:
    rec = checks.as_record(value, source, where)
    return Element(
        name=checks.text(checks.field(rec, "name", source, where), source, f"{where}.name"),
        type=checks.text(checks.field(rec, "type", source, where), source, f"{where}.type"),
        data=_data(rec.get(f"{what}_data", {}), source, f"{where}.{what}_data", systems),
        frame_intervals=_intervals(rec.get("frame_intervals", []), source, f"{where}.frame_intervals"),
    )


def _frames(value: Any, source: str, objects: Mapping[str, Element], contexts: Mapping[str, Element],
            systems: Mapping[str, Any]) -> dict[int, Frame]:
    out: dict[int, Frame] = {}
    for key, item in checks.as_record(value, source, "frames").items():
        where = f"frames.{key}"
        if not (isinstance(key, str) and key.isascii() and key.isdigit()):
            raise InvalidInput(source, where, f"frame numbers are non-negative integers, got {key!r}")
        rec = checks.as_record(item, source, where)
        out[int(key)] = Frame(
            objects=_dynamic(rec.get("objects", {}), source, f"{where}.objects", "object", objects, systems),
            contexts=_dynamic(rec.get("contexts", {}), source, f"{where}.contexts", "context", contexts, systems),
            properties=dict(checks.as_record(rec.get("frame_properties", {}), source, f"{where}.frame_properties")),
        )
    return dict(sorted(out.items()))


def _dynamic(value: Any, source: str, where: str, what: str, known: Mapping[str, Element],
             systems: Mapping[str, Any]) -> dict[str, ElementData]:
    out: dict[str, ElementData] = {}
    for uid, item in checks.as_record(value, source, where).items():
        if uid not in known:
            raise InvalidInput(source, f"{where}.{uid}", f"{what} {uid} is not in the {what}s list")
        rec = checks.as_record(item, source, f"{where}.{uid}")
        out[uid] = _data(rec.get(f"{what}_data", {}), source, f"{where}.{uid}.{what}_data", systems)
    return out


def _data(value: Any, source: str, where: str, systems: Mapping[str, Any]) -> ElementData:
    """Shapes and scalar values of one element data record, in file order; other kinds are skipped."""
    shapes: list[Shape] = []
    values: list[Value] = []
    for kind, items in checks.as_record(value, source, where).items():
        for i, item in enumerate(checks.as_list(items, source, f"{where}.{kind}") if kind in _KNOWN else ()):
            at = f"{where}.{kind}[{i}]"
            rec = checks.as_record(item, source, at)
            if kind in SHAPE_KINDS:
                shapes.append(_shape(kind, rec, source, at, systems))
            else:
                values.append(_value(kind, rec, source, at))
    return ElementData(tuple(shapes), tuple(values))


_KNOWN = SHAPE_KINDS + VALUE_KINDS


def _shape(kind: str, rec: Mapping[str, Any], source: str, where: str, systems: Mapping[str, Any]) -> Shape:
    name = checks.text(checks.field(rec, "name", source, where), source, f"{where}.name")
    system = checks.text(rec.get("coordinate_system", ""), source, f"{where}.coordinate_system")
    if system and system not in systems:
        raise InvalidInput(source, f"{where}.coordinate_system", f"{system!r} is not in the coordinate_systems")
    val = checks.field(rec, "val", source, where)
    legacy = kind == "cuboid" and val is None
    numbers = _legacy_cuboid(rec, source, where) if legacy else _numbers(kind, val, source, f"{where}.val")
    return Shape(kind, name, numbers, system, legacy)


def _numbers(kind: str, value: Any, source: str, where: str) -> tuple[float, ...]:
    items = checks.as_list(value, source, where)
    sizes = _SIZES[kind]
    if len(items) not in sizes:
        expected = " or ".join(map(str, sizes))
        raise InvalidInput(source, where, f"expected {expected} numbers, got {len(items)} values")
    numbers = tuple(checks.number(v, source, f"{where}[{i}]") for i, v in enumerate(items))
    size_from = 2 if kind == "bbox" else len(items) - 3
    for i in range(size_from, len(items)):
        checks.number(items[i], source, f"{where}[{i}]", minimum=0.0)
    return numbers


def _legacy_cuboid(rec: Mapping[str, Any], source: str, where: str) -> tuple[float, ...]:
    """VCD 4's cuboid: ``quaternion`` [x, y, z, w], ``traslation`` [sic] and ``size``, with ``val: null``."""
    parts: list[float] = []
    for key, size, minimum in (("traslation", 3, None), ("quaternion", 4, None), ("size", 3, 0.0)):
        items = checks.as_list(checks.field(rec, key, source, where), source, f"{where}.{key}")
        if len(items) != size:
            raise InvalidInput(source, f"{where}.{key}", f"expected {size} numbers, got {len(items)} values")
        parts.extend(checks.number(v, source, f"{where}.{key}[{i}]", minimum=minimum) for i, v in enumerate(items))
    return tuple(parts)


def _value(kind: str, rec: Mapping[str, Any], source: str, where: str) -> Value:
    name = checks.text(checks.field(rec, "name", source, where), source, f"{where}.name")
    val = checks.field(rec, "val", source, where)
    if kind == "text":
        checks.text(val, source, f"{where}.val")
    elif kind == "num":
        checks.number(val, source, f"{where}.val")
    elif not isinstance(val, bool):
        raise InvalidInput(source, f"{where}.val", f"expected true or false, got {checks.describe(val)}")
    return Value(kind, name, val)


def _intervals(value: Any, source: str, where: str) -> tuple[Interval, ...]:
    out = []
    for i, item in enumerate(checks.as_list(value, source, where)):
        rec = checks.as_record(item, source, f"{where}[{i}]")
        start = checks.integer(checks.field(rec, "frame_start", source, f"{where}[{i}]"), source,
                               f"{where}[{i}].frame_start", minimum=0)
        end = checks.integer(checks.field(rec, "frame_end", source, f"{where}[{i}]"), source,
                             f"{where}[{i}].frame_end", minimum=start)
        out.append((start, end))
    return tuple(out)
