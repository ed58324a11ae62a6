"""A frame source's ground truth as the document the simulated people read: COCO, or COCO-shaped from OpenLABEL.

A COCO document is used as it is. An OpenLABEL one (point clouds: cuboids) becomes a document of
the same shape whose records carry tagged geometry instead of a ``bbox`` (``{"type": "cuboid3d",
...}``; a ``bbox`` shape gives ``box2d``), their class by the dataset's category names and the
object's ``num`` and ``text`` data as attributes (``num_points``); a frame's tags are the text of
the contexts on it. Frames are the document's frame numbers (the engine's frame ids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from analysis.exceptions import InvalidInput
from analysis.geometry import write_geometry
from services.io.openlabel import ElementData, Frame, Shape, is_openlabel, read_openlabel
from services.io.openlabel.convert import frame_tags, objects_on
from services.io.openlabel.shapes import box_of, cuboid_of

_SHAPES: dict[str, tuple[str, Callable[[Shape], Any]]] = {"bbox": ("box2d", box_of), "cuboid": ("cuboid3d", cuboid_of)}


def truth_document(doc: dict[str, Any], name: str, categories: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``doc`` (COCO) unchanged, or an OpenLABEL ``doc`` as a COCO-shaped document of ``categories``."""
    if not is_openlabel(doc):
        return doc
    labels = read_openlabel(doc, name)
    cats = [dict(c) for c in categories]
    ids = {str(c["name"]): int(c["id"]) for c in cats}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for f in sorted(labels.frames) or [0]:
        frame = labels.frames.get(f, Frame())
        images.append({"id": f, "file_name": _uri(frame), "tags": frame_tags(labels, frame, f)})
        for uid in objects_on(labels, frame, f):
            element, data = labels.objects[uid], frame.objects.get(uid, ElementData())
            if element.type not in ids:
                raise InvalidInput(name, f"objects.{uid}.type", f"{element.type!r} is not a category of the dataset "
                                   f"({', '.join(ids)})")
            attributes = {v.name: v.val for v in (*element.data.values, *data.values)}
            for shape in (*element.data.shapes, *data.shapes):
                kind, read = _SHAPES[shape.kind]
                annotations.append({"id": len(annotations) + 1, "image_id": f, "category_id": ids[element.type],
                                    "geometry": write_geometry(kind, read(shape)), "attributes": dict(attributes)})
    return {"images": images, "annotations": annotations, "categories": cats}


def _uri(frame: Frame) -> str:
    streams = frame.properties.get("streams", {})
    return next((str(s.get("uri", "")) for s in streams.values() if isinstance(s, Mapping)), "")
