"""An :class:`OpenLabel` document as OpenLABEL 1.0 JSON (``read_openlabel`` gives the document back).

Empty sections are left out; object data pointers are computed from the data (static data has no
frame intervals, dynamic data the intervals of the frames that carry it), as VCD writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.io.openlabel.document import Element, ElementData, Interval, OpenLabel, Shape, intervals


def write_openlabel(doc: OpenLabel) -> dict[str, Any]:
    root: dict[str, Any] = {"metadata": dict(doc.metadata)}
    if doc.coordinate_systems:
        root["coordinate_systems"] = dict(doc.coordinate_systems)
    if doc.streams:
        root["streams"] = dict(doc.streams)
    for what, elements in (("object", doc.objects), ("context", doc.contexts)):
        if elements:
            pointers = _pointers(doc, what)
            root[f"{what}s"] = {uid: _element(e, what, pointers[uid]) for uid, e in elements.items()}
    if doc.frames:
        root["frames"] = {str(f): _frame(frame.objects, frame.contexts, frame.properties)
                          for f, frame in doc.frames.items()}
    if doc.frame_intervals:
        root["frame_intervals"] = _intervals(doc.frame_intervals)
    return {"openlabel": root}


def _element(element: Element, what: str, pointers: dict[str, Any]) -> dict[str, Any]:
    rec: dict[str, Any] = {"name": element.name, "type": element.type}
    if element.frame_intervals:
        rec["frame_intervals"] = _intervals(element.frame_intervals)
    if element.data:
        rec[f"{what}_data"] = element_data(element.data)
    if pointers:
        rec[f"{what}_data_pointers"] = pointers
    return rec


def _frame(objects: Mapping[str, ElementData], contexts: Mapping[str, ElementData],
           properties: Mapping[str, Any]) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    if objects:
        rec["objects"] = {uid: {"object_data": element_data(d)} if d else {} for uid, d in objects.items()}
    if contexts:
        rec["contexts"] = {uid: {"context_data": element_data(d)} if d else {} for uid, d in contexts.items()}
    if properties:
        rec["frame_properties"] = dict(properties)
    return rec


def element_data(data: ElementData) -> dict[str, list[dict[str, Any]]]:
    """The ``object_data`` / ``context_data`` record: lists by kind, in the order kinds first appear."""
    out: dict[str, list[dict[str, Any]]] = {}
    for shape in data.shapes:
        out.setdefault(shape.kind, []).append(_shape(shape))
    for value in data.values:
        out.setdefault(value.kind, []).append({"name": value.name, "val": value.val})
    return out


def _shape(shape: Shape) -> dict[str, Any]:
    rec: dict[str, Any] = {"name": shape.name}
    if shape.coordinate_system:
        rec["coordinate_system"] = shape.coordinate_system
    if shape.legacy:
        rec.update(quaternion=list(shape.val[3:7]), traslation=list(shape.val[:3]), size=list(shape.val[7:]),
                   val=None)
    else:
        rec["val"] = list(shape.val)
    return rec


def _pointers(doc: OpenLabel, what: str) -> dict[str, dict[str, Any]]:
    """Each element's data pointers: every data name's kind and the frames its dynamic data is on."""
    elements = doc.objects if what == "object" else doc.contexts
    kinds: dict[str, dict[str, str]] = {uid: {} for uid in elements}
    frames: dict[str, dict[str, list[int]]] = {uid: {} for uid in elements}
    for uid, element in elements.items():
        for name, kind in _names(element.data):
            kinds[uid].setdefault(name, kind)
    for n, frame in doc.frames.items():
        for uid, data in (frame.objects if what == "object" else frame.contexts).items():
            for name, kind in _names(data):
                kinds[uid].setdefault(name, kind)
                seen = frames[uid].setdefault(name, [])
                if not seen or seen[-1] != n:
                    seen.append(n)
    return {uid: {name: {"type": kind, "frame_intervals": _intervals(intervals(sorted(frames[uid].get(name, []))))}
                  for name, kind in names.items()} for uid, names in kinds.items()}


def _names(data: ElementData) -> list[tuple[str, str]]:
    return [(s.name, s.kind) for s in data.shapes] + [(v.name, v.kind) for v in data.values]


def _intervals(values: tuple[Interval, ...]) -> list[dict[str, int]]:
    return [{"frame_start": a, "frame_end": b} for a, b in values]
