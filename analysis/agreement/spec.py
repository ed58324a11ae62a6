"""Quality specs: when would a machine-labelled frame have passed QA unchanged?

A spec is a value read from YAML (by the caller) into :meth:`QualitySpec.from_mapping`::

    min_iou: 0.5        # every matched object must overlap at least this much
    min_area: 0         # objects smaller (px²; cuboids: footprint m²) are ignored on both sides
    min_height: 0       # objects lower (px; cuboids: m) are ignored on both sides
    max_missed: 0       # manual objects the machine may miss
    max_extra: 0        # machine objects with no manual counterpart
    attributes: []      # object attributes that must agree on every match
    tags: []            # image-level tags that must agree
    classes:            # per-class overrides of the per-class keys (min_iou ... max_yaw_error)
      pedestrian: {min_iou: 0.6, min_height: 10}

and, for objects with a position and heading on the ground (``cuboid3d``)::

    match: iou          # iou: Hungarian on IoU >= the comparison's threshold, min_iou per class;
                        # centre: nuScenes' greedy rule by BEV centre distance (needs scores)
    overlap: 3d         # the IoU a cuboid's min_iou (and the IoU matcher) reads: 3d, or bev (footprints)
    max_distance: 2.0   # match: centre only: metres between centres for a match (nuScenes: 0.5, 1, 2, 4)
    max_yaw_error: 180  # degrees: a match whose headings differ more is poorly localised (180: no limit)

With ``match: centre`` a match is localised by its distance and heading alone: ``min_iou`` is not
read there and is refused, as ``max_distance`` is with ``match: iou``. ``max_distance`` and
``max_yaw_error`` are per class (overridable in ``classes``). ``overlap: bev``, ``match: centre``
and a yaw limit below 180 need a geometry kind that has them; comparing other kinds with such a
spec is an error naming the key (:meth:`QualitySpec.check_geometry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import BoolArray, Categories, FloatArray, IntArray, Objects
from analysis.exceptions import InvalidInput, InvalidSpec
from analysis.geometry import Geometry, extent_of

_CLASS_KEYS = ("min_iou", "min_area", "min_height", "max_distance", "max_yaw_error")
_TOP_KEYS = (*_CLASS_KEYS, "match", "overlap", "max_missed", "max_extra", "attributes", "tags", "classes")
MATCHES = ("iou", "centre")  # how objects are paired: by IoU (Hungarian), or by centre distance (nuScenes)
OVERLAPS = ("3d", "bev")  # the IoU of cuboids min_iou reads: of the cuboids, or of their footprints
NO_YAW_LIMIT = 180.0  # degrees: no two headings differ more
_YAW_ROUNDING = 1e-9  # radians: a heading difference this close to its limit is within it
_UNREAD = {"iou": "max_distance", "centre": "min_iou"}  # the localisation key each way of matching does not read


@dataclass(frozen=True)
class ClassRule:
    """Per-class localisation requirements and size below which objects are ignored."""

    min_iou: float = 0.5
    min_area: float = 0.0
    min_height: float = 0.0
    max_distance: float = 2.0  # metres between centres, with centre matching (nuScenes' middle threshold)
    max_yaw_error: float = NO_YAW_LIMIT  # degrees


@dataclass(frozen=True)
class ClassRules:
    """A spec's class rules resolved to arrays indexed by dense category index."""

    min_iou: FloatArray
    min_area: FloatArray
    min_height: FloatArray
    max_distance: FloatArray
    max_yaw_error: FloatArray

    def too_small(self, objects: Objects) -> BoolArray:
        c = objects.category
        return (objects.area < self.min_area[c]) | (extent_of(objects) < self.min_height[c])

    @property
    def limits_yaw(self) -> bool:
        return bool((self.max_yaw_error < NO_YAW_LIMIT).any())

    def poorly_localised(
        self, category: IntArray, iou: FloatArray, yaw_error: FloatArray | None, *, by_iou: bool,
    ) -> BoolArray:
        """Which matches (of manual class ``category``) fail their class's localisation: IoU below
        ``min_iou`` (``by_iou``), or headings (``yaw_error``, radians) further apart than ``max_yaw_error``."""
        poor = iou < self.min_iou[category] if by_iou else np.zeros(len(category), dtype=bool)
        if yaw_error is not None:
            poor |= yaw_error > np.radians(self.max_yaw_error[category]) + _YAW_ROUNDING
        return poor


@dataclass(frozen=True)
class QualitySpec:
    """Acceptance rule for one frame; see the module docstring for the file format."""

    default: ClassRule = ClassRule()
    classes: Mapping[str, ClassRule] = field(default_factory=dict)
    match: str = "iou"  # one of MATCHES
    overlap: str = "3d"  # one of OVERLAPS
    max_missed: int = 0
    max_extra: int = 0
    attributes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = field(default="spec", compare=False)  # the file, for errors found later

    def __post_init__(self) -> None:
        for key, value, allowed in (("match", self.match, MATCHES), ("overlap", self.overlap, OVERLAPS)):
            if value not in allowed:
                raise InvalidSpec(self.source, key, f"must be one of {', '.join(allowed)}, got '{value}'")

    @classmethod
    def from_mapping(cls, doc: Any, source: str) -> QualitySpec:
        """Build a spec from a parsed YAML/JSON mapping, rejecting unknown keys and keys its way of
        matching does not read."""
        if doc is None:
            return cls(source=source)
        rec = _record(doc, source, "", _TOP_KEYS)
        match = _spec(_choice(MATCHES), rec, "match", "iou", source)
        default = _class_rule(rec, source, "", ClassRule(), match)
        classes_doc = _record(rec.get("classes", {}), source, "classes", None)
        classes = {
            name: _class_rule(_record(v, source, f"classes.{name}", _CLASS_KEYS), source, f"classes.{name}", default,
                              match)
            for name, v in classes_doc.items()
        }
        return cls(
            default=default, classes=classes, match=match,
            overlap=_spec(_choice(OVERLAPS), rec, "overlap", "3d", source),
            max_missed=_spec(checks.integer, rec, "max_missed", 0, source, minimum=0),
            max_extra=_spec(checks.integer, rec, "max_extra", 0, source, minimum=0),
            attributes=_names(rec, "attributes", source), tags=_names(rec, "tags", source),
            source=source,
        )

    def to_mapping(self) -> dict[str, Any]:
        """The spec as the mapping :meth:`from_mapping` reads (each class written out in full): its inverse.
        Keys at values that change nothing are left out (``match: iou``, ``overlap: 3d``, no yaw limit),
        and so is the localisation key the spec's way of matching does not read."""
        keys = [k for k in _CLASS_KEYS if k != _UNREAD[self.match] and (k != "max_yaw_error" or self._yaw_limited())]
        doc: dict[str, Any] = {k: getattr(self.default, k) for k in keys}
        unusual = (("match", self.match, "iou"), ("overlap", self.overlap, "3d"))
        doc.update({k: v for k, v, usual in unusual if v != usual})
        doc.update(max_missed=self.max_missed, max_extra=self.max_extra, attributes=list(self.attributes),
                   tags=list(self.tags))
        if self.classes:
            doc["classes"] = {name: {k: getattr(rule, k) for k in keys} for name, rule in self.classes.items()}
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

    def check_geometry(self, geometry: Geometry, source: str | None = None) -> None:
        """Refuse keys that need what objects of ``geometry``'s kind lack: centres (``match: centre``),
        a second overlap (``overlap: bev``), headings (a ``max_yaw_error`` below 180)."""
        needs = [("match", self.match != "iou", "pair_distance", "centres"),
                 ("overlap", self.overlap != "3d", "with_overlap", "a bird's-eye-view overlap"),
                 (self._yaw_limited(), True, "pair_yaw_error", "headings")]
        for key, used, method, what in needs:
            if key and used and not callable(getattr(geometry, method, None)):
                raise InvalidSpec(source or self.source, key, f"needs objects with {what} (cuboid3d); these are "
                                  f"compared as {geometry.kind}")

    def _yaw_limited(self) -> str:
        """The first key that limits headings ("": none)."""
        rules = [("max_yaw_error", self.default), *((f"classes.{n}.max_yaw_error", r) for n, r in self.classes.items())]
        return next((key for key, rule in rules if rule.max_yaw_error < NO_YAW_LIMIT), "")


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


def _class_rule(rec: Mapping[str, Any], source: str, where: str, base: ClassRule, match: str) -> ClassRule:
    prefix = f"{where}." if where else ""
    unread = _UNREAD[match]
    if unread in rec:
        reads = "max_distance and max_yaw_error" if match == "centre" else "min_iou and max_yaw_error"
        raise InvalidSpec(source, f"{prefix}{unread}", f"not read with match: {match} (a match is localised by "
                          f"{reads} there)")
    return ClassRule(
        min_iou=_spec(checks.number, rec, "min_iou", base.min_iou, source, prefix, above=0.0, maximum=1.0),
        min_area=_spec(checks.number, rec, "min_area", base.min_area, source, prefix, minimum=0.0),
        min_height=_spec(checks.number, rec, "min_height", base.min_height, source, prefix, minimum=0.0),
        max_distance=_spec(checks.number, rec, "max_distance", base.max_distance, source, prefix, above=0.0),
        max_yaw_error=_spec(checks.number, rec, "max_yaw_error", base.max_yaw_error, source, prefix, minimum=0.0,
                            maximum=NO_YAW_LIMIT),
    )


def _choice(allowed: tuple[str, ...]) -> Any:
    def check(value: Any, source: str, where: str) -> str:
        name = checks.text(value, source, where)
        if name not in allowed:
            raise InvalidInput(source, where, f"must be one of {', '.join(allowed)}, got '{name}'")
        return name

    return check


def _names(rec: Mapping[str, Any], key: str, source: str) -> tuple[str, ...]:
    def check(value: Any, src: str, where: str) -> tuple[str, ...]:
        items = checks.as_list(value, src, where)
        return tuple(checks.text(v, src, f"{where}[{i}]") for i, v in enumerate(items))

    out: tuple[str, ...] = _spec(check, rec, key, (), source)
    return out
