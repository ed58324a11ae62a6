"""Quality specs: when would a machine-labelled frame have passed QA unchanged?

A spec is a value read from YAML (by the caller) into :meth:`QualitySpec.from_mapping`::

    min_iou: 0.5        # every matched object must overlap at least this much
    min_area: 0         # objects smaller (px²) are ignored on both sides
    min_height: 0       # objects lower (px) are ignored on both sides
    max_missed: 0       # manual objects the machine may miss
    max_extra: 0        # machine objects with no manual counterpart
    attributes: []      # object attributes that must agree on every match
    tags: []            # image-level tags that must agree
    classes:            # per-class overrides of min_iou / min_area / min_height
      pedestrian: {min_iou: 0.6, min_height: 10}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import BoolArray, Categories, FloatArray, Objects
from analysis.exceptions import InvalidInput, InvalidSpec
from analysis.geometry import extent_of

_CLASS_KEYS = ("min_iou", "min_area", "min_height")
_TOP_KEYS = (*_CLASS_KEYS, "max_missed", "max_extra", "attributes", "tags", "classes")


@dataclass(frozen=True)
class ClassRule:
    """Per-class localisation requirement and size below which objects are ignored."""

    min_iou: float = 0.5
    min_area: float = 0.0
    min_height: float = 0.0


@dataclass(frozen=True)
class ClassRules:
    """A spec's class rules resolved to arrays indexed by dense category index."""

    min_iou: FloatArray
    min_area: FloatArray
    min_height: FloatArray

    def too_small(self, objects: Objects) -> BoolArray:
        c = objects.category
        return (objects.area < self.min_area[c]) | (extent_of(objects) < self.min_height[c])


@dataclass(frozen=True)
class QualitySpec:
    """Acceptance rule for one frame; see the module docstring for the file format."""

    default: ClassRule = ClassRule()
    classes: Mapping[str, ClassRule] = field(default_factory=dict)
    max_missed: int = 0
    max_extra: int = 0
    attributes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = field(default="spec", compare=False)  # the file, for errors found later

    @classmethod
    def from_mapping(cls, doc: Any, source: str) -> QualitySpec:
        """Build a spec from a parsed YAML/JSON mapping, rejecting unknown keys."""
        if doc is None:
            return cls(source=source)
        rec = _record(doc, source, "", _TOP_KEYS)
        default = _class_rule(rec, source, "", ClassRule())
        classes_doc = _record(rec.get("classes", {}), source, "classes", None)
        classes = {
            name: _class_rule(_record(v, source, f"classes.{name}", _CLASS_KEYS), source, f"classes.{name}", default)
            for name, v in classes_doc.items()
        }
        return cls(
            default=default, classes=classes,
            max_missed=_spec(checks.integer, rec, "max_missed", 0, source, minimum=0),
            max_extra=_spec(checks.integer, rec, "max_extra", 0, source, minimum=0),
            attributes=_names(rec, "attributes", source), tags=_names(rec, "tags", source),
            source=source,
        )

    def to_mapping(self) -> dict[str, Any]:
        """The spec as the mapping :meth:`from_mapping` reads (each class written out in full): its inverse."""
        doc: dict[str, Any] = {**asdict(self.default), "max_missed": self.max_missed, "max_extra": self.max_extra,
                               "attributes": list(self.attributes), "tags": list(self.tags)}
        if self.classes:
            doc["classes"] = {name: asdict(rule) for name, rule in self.classes.items()}
        return doc

    def resolve(self, categories: Categories, source: str | None = None) -> ClassRules:
        """Class rules as arrays for these categories; unknown class names are an error."""
        source = source or self.source
        index = {name: i for i, name in enumerate(categories.names)}
        for name in self.classes:
            if name not in index:
                raise InvalidSpec(source, f"classes.{name}", f"unknown class (known: {', '.join(categories.names)})")
        rules = [self.classes.get(name, self.default) for name in categories.names]
        return ClassRules(*(np.array([getattr(r, k) for r in rules], dtype=np.float64) for k in _CLASS_KEYS))

    def with_min_iou(self, min_iou: float) -> QualitySpec:
        return replace(self, default=replace(self.default, min_iou=min_iou))


def _record(doc: Any, source: str, where: str, allowed: tuple[str, ...] | None) -> Mapping[str, Any]:
    try:
        rec = checks.as_record(doc, source, where)
    except InvalidInput as exc:
        raise InvalidSpec(source, where, exc.problem) from None
    unknown = [k for k in rec if allowed is not None and k not in allowed]
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise InvalidSpec(source, key, f"unknown key '{unknown[0]}' (known: {', '.join(allowed or ())})")
    return rec


def _spec(check: Any, rec: Mapping[str, Any], key: str, default: Any, source: str, where: str = "", **kw: Any) -> Any:
    if key not in rec:
        return default
    try:
        return check(rec[key], source, f"{where}{key}", **kw)
    except InvalidInput as exc:
        raise InvalidSpec(source, exc.where, exc.problem) from None


def _class_rule(rec: Mapping[str, Any], source: str, where: str, base: ClassRule) -> ClassRule:
    prefix = f"{where}." if where else ""
    return ClassRule(
        min_iou=_spec(checks.number, rec, "min_iou", base.min_iou, source, prefix, above=0.0, maximum=1.0),
        min_area=_spec(checks.number, rec, "min_area", base.min_area, source, prefix, minimum=0.0),
        min_height=_spec(checks.number, rec, "min_height", base.min_height, source, prefix, minimum=0.0),
    )


def _names(rec: Mapping[str, Any], key: str, source: str) -> tuple[str, ...]:
    def check(value: Any, src: str, where: str) -> tuple[str, ...]:
        items = checks.as_list(value, src, where)
        return tuple(checks.text(v, src, f"{where}[{i}]") for i, v in enumerate(items))

    out: tuple[str, ...] = _spec(check, rec, key, (), source)
    return out
