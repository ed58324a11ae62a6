"""CVAT batches: a "CVAT for images 1.1" document sent out, and the tool's export of it read back.

Each ``<image>`` (named by the task id) holds the person's ``<box>`` elements
(pixels, ``xtl ytl xbr ybr``; their ``<attribute>`` children become text
attributes) and image tags: ``<tag label="weather"><attribute
name="value">rain</attribute></tag>`` is the tag ``weather`` = ``rain`` (a
tag's single attribute, whatever its name, is its value), and a plain ``<tag
label="good_frame"/>`` is a presence tag, ``good_frame`` = ``"true"``. A
rotated box (``rotation`` degrees, about its centre) becomes its enclosing
axis-aligned box with the attribute ``rotation``, or rejects the task with
``rotated=refuse``. Any other shape (polygon, polyline, points, skeleton, mask,
...) rejects its task, so a person's answer is imported whole or not at all,
unless the import asks ``other_shapes=ignore`` (then it is left out, and listed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException

from services.api.formats.common import (
    PRESENT,
    Answer,
    BatchFormatError,
    BatchTask,
    Others,
    Rejected,
    Rotated,
    Submission,
    enclosing_box,
    number,
    outcome,
    rotated_corners,
    task_id,
)

BOX = ("xtl", "ytl", "xbr", "ybr")


def cvat_document(tasks: Sequence[BatchTask], category_names: Sequence[str]) -> bytes:
    """A CVAT-for-images 1.1 XML document with one empty ``<image>`` per task."""
    root = ElementTree.Element("annotations")
    ElementTree.SubElement(root, "version").text = "1.1"
    labels = ElementTree.SubElement(ElementTree.SubElement(ElementTree.SubElement(root, "meta"), "task"), "labels")
    for name in category_names:
        ElementTree.SubElement(ElementTree.SubElement(labels, "label"), "name").text = name
    for k, t in enumerate(tasks):
        ElementTree.SubElement(root, "image", {"id": str(k), "name": t.task_id, "width": str(t.width),
                                               "height": str(t.height), "subset": t.stratum})
    document: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def cvat_root(document: bytes) -> ElementTree.Element:
    """The ``<annotations>`` element of a CVAT for images export (entities and DTDs refused: defusedxml)."""
    try:
        root = SafeXML.fromstring(document)
    except (ElementTree.ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        raise BatchFormatError("document", f"not CVAT XML ({type(exc).__name__}: {exc})") from None
    if root.tag != "annotations":
        raise BatchFormatError("document", f"root element is <{root.tag}>, expected <annotations>")
    if root.find("track") is not None:
        raise BatchFormatError("document", "<track> elements (CVAT for video) are not read: export the batch as "
                                           "CVAT for images 1.1")
    return root


def from_cvat(document: bytes, categories: Mapping[str, int], rotated: Rotated = "enclose",
              others: Others = "reject") -> list[Submission | Rejected]:
    """Each ``<image>`` of CVAT's "CVAT for images 1.1" export of a batch: its boxes and tags, or why it is
    rejected."""
    out: list[Submission | Rejected] = []
    for image in cvat_root(document).iter("image"):
        tid = task_id(image.get("name"), "image", "name (the task id)")
        out.append(outcome(tid, cvat_answer(image, categories, rotated, others, f"image {tid!r}")))
    return out


def cvat_answer(image: ElementTree.Element, categories: Mapping[str, int], rotated: Rotated = "enclose",
                others: Others = "reject", where: str = "image") -> Answer:
    """One ``<image>`` read as boxes and tags (any image's: no shadowqa task id needed)."""
    answer = Answer()
    for k, child in enumerate(image):
        part = f"<{child.tag}> {k}"
        if child.tag == "box":
            _box(child, categories, rotated, f"{where}: {part}", answer)
        elif child.tag == "tag":
            _tag(child, f"{where}: {part}", answer)
        else:
            answer.not_read(f"{part} is a {child.tag} (this API reads <box> and <tag>)", others)
    return answer


def _box(box: ElementTree.Element, categories: Mapping[str, int], rotated: Rotated, where: str,
         answer: Answer) -> None:
    xtl, ytl, xbr, ybr = (number(box.get(k), where, k) for k in BOX)
    angle = number(box.get("rotation", "0"), where, "rotation")
    part = where.rsplit(": ", 1)[-1]
    if xbr < xtl or ybr < ytl:
        answer.problems.append(f"{part}: xbr < xtl or ybr < ytl: not a box")
        return
    attributes: dict[str, Any] = _attributes(box, where)
    corners = [(xtl, ytl), (xbr, ybr)]
    if angle % 360 != 0:
        if rotated == "refuse":
            answer.problems.append(f"{part}: a box rotated by {angle:g} degrees (refused as asked; "
                                   "rotated=enclose imports its enclosing box)")
            return
        centre = ((xtl + xbr) / 2, (ytl + ybr) / 2)
        corners = rotated_corners(xtl, ytl, xbr - xtl, ybr - ytl, angle, about=centre)
        attributes["rotation"] = angle
    answer.add_object(enclosing_box(corners), box.get("label", ""), categories, part, attributes)


def _tag(tag: ElementTree.Element, where: str, answer: Answer) -> None:
    label = tag.get("label") or ""
    if not label:
        raise BatchFormatError(where, "a <tag> needs a label (the tag's name)")
    values = _attributes(tag, where)
    if not values:
        answer.add_tag(label, PRESENT)
    elif "value" in values or len(values) == 1:
        answer.add_tag(label, values.get("value", next(iter(values.values()))))
    else:
        answer.problems.append(f"{where.rsplit(': ', 1)[-1]}: tag {label!r} has several attributes and none named "
                               "'value'")


def _attributes(element: ElementTree.Element, where: str) -> dict[str, Any]:
    """The element's ``<attribute name="...">text</attribute>`` children, as text."""
    out: dict[str, Any] = {}
    for attribute in element.findall("attribute"):
        name = attribute.get("name") or ""
        if not name:
            raise BatchFormatError(where, "an <attribute> needs a name")
        out[name] = (attribute.text or "").strip()
    return out
