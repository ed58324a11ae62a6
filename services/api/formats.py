"""Task batches in Label Studio's and CVAT's formats, so a team can work in the tool it already uses.

Export: each leased task becomes a Label Studio task (JSON, ``data.image`` the
API's image URL, ``data.shadowqa_task_id``) or a CVAT-for-images 1.1 ``<image>``
(``name`` the task id, width and height). Import: the tool's export of the same
batch; each task's first non-cancelled annotation (Label Studio) or the
``<image>``'s boxes and tags (CVAT) become a COCO-form submission: boxes
``[x, y, w, h]`` in pixels, category ids from the data set's category names,
image tags (Label Studio ``choices`` named by the tag; CVAT ``<tag label=KEY>``
with an attribute ``value``). Pure functions: no database, no HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException

from services.exceptions import ShadowQAError
from services.messages import AnnotatedObject

FORMATS = ("label-studio", "cvat")


class BatchFormatError(ShadowQAError):
    """An uploaded batch that cannot be read; ``where`` names the task or element."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.where, self.detail = where, detail


@dataclass(frozen=True)
class BatchTask:
    """What an external tool needs of one task: no machine output, as in the queue API."""

    task_id: str
    frame_id: str
    stratum: str
    image_url: str
    width: int
    height: int


@dataclass(frozen=True)
class Submission:
    task_id: str
    objects: list[AnnotatedObject]
    tags: dict[str, str]


def label_studio_tasks(tasks: Sequence[BatchTask]) -> list[dict[str, Any]]:
    return [{"id": k, "data": {"image": t.image_url, "shadowqa_task_id": t.task_id, "frame_id": t.frame_id,
                               "stratum": t.stratum, "width": t.width, "height": t.height}}
            for k, t in enumerate(tasks, start=1)]


def label_studio_config(category_names: Sequence[str], tag_values: Mapping[str, Sequence[str]]) -> str:
    """A labeling config for the exported tasks: rectangles with the categories, one choice set per tag."""
    labels = "".join(f'<Label value="{_xml(n)}"/>' for n in category_names)
    choices = "".join(
        f'<Choices name="{_xml(k)}" toName="image" choice="single">'
        + "".join(f'<Choice value="{_xml(v)}"/>' for v in values) + "</Choices>"
        for k, values in tag_values.items())
    return (f'<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image">{labels}'
            f"</RectangleLabels>{choices}</View>")


def from_label_studio(document: Any, categories: Mapping[str, int]) -> list[Submission]:
    """Submissions from Label Studio's JSON export of a batch (a list of tasks with ``annotations``)."""
    if not isinstance(document, list):
        raise BatchFormatError("document", "expected Label Studio's JSON export: a list of tasks")
    out = []
    for k, task in enumerate(document):
        where = f"task {k}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise BatchFormatError(where, "expected an object with 'data'")
        task_id = task["data"].get("shadowqa_task_id")
        if not isinstance(task_id, str) or not task_id:
            raise BatchFormatError(where, "data.shadowqa_task_id missing: import the batch this API exported")
        answers = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        if not answers:
            continue  # not annotated in the tool: the task stays leased until its lease runs out
        objects, tags = [], {}
        for j, item in enumerate(answers[0].get("result") or []):
            at = f"task {task_id!r}: result {j}"
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "rectanglelabels":
                objects.append(_ls_box(item, categories, at))
            elif kind == "choices":
                chosen = (item.get("value") or {}).get("choices") or []
                if len(chosen) != 1 or not isinstance(item.get("from_name"), str):
                    raise BatchFormatError(at, "a tag needs from_name and exactly one choice")
                tags[item["from_name"]] = str(chosen[0])
            else:
                raise BatchFormatError(at, f"unsupported result type {kind!r} (rectanglelabels, choices)")
        out.append(Submission(task_id, objects, tags))
    return out


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


def from_cvat(document: bytes, categories: Mapping[str, int]) -> list[Submission]:
    """Submissions from CVAT's "CVAT for images 1.1" export of a batch: boxes and image tags per ``<image>``."""
    try:
        root = SafeXML.fromstring(document)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise BatchFormatError("document", f"not CVAT XML ({exc})") from None
    if root.tag != "annotations":
        raise BatchFormatError("document", f"root element is <{root.tag}>, expected <annotations>")
    out = []
    for image in root.iter("image"):
        task_id = image.get("name") or ""
        where = f"image {task_id!r}"
        if not task_id:
            raise BatchFormatError("image", "missing name (the task id this API exported)")
        objects = [_cvat_box(box, categories, where) for box in image.iter("box")]
        tags = {}
        for tag in image.iter("tag"):
            value = next((a.text for a in tag.iter("attribute") if a.get("name") == "value"), None)
            if not tag.get("label") or not value:
                raise BatchFormatError(where, "a <tag> needs a label (the tag) and an attribute 'value'")
            tags[tag.get("label", "")] = value
        out.append(Submission(task_id, objects, tags))
    return out


def _ls_box(item: Mapping[str, Any], categories: Mapping[str, int], where: str) -> AnnotatedObject:
    value = item.get("value") or {}
    names = value.get("rectanglelabels") or []
    width, height = item.get("original_width"), item.get("original_height")
    if len(names) != 1:
        raise BatchFormatError(where, "a box needs exactly one label")
    if not (isinstance(width, int | float) and isinstance(height, int | float) and width > 0 and height > 0):
        raise BatchFormatError(where, "original_width and original_height are needed to convert percent to pixels")
    try:
        x, y, w, h = (float(value[k]) for k in ("x", "y", "width", "height"))
    except (KeyError, TypeError, ValueError):
        raise BatchFormatError(where, "a box needs numeric x, y, width, height (percent)") from None
    box = (x * width / 100.0, y * height / 100.0, w * width / 100.0, h * height / 100.0)
    return _object(box, names[0], categories, where)


def _cvat_box(box: ElementTree.Element, categories: Mapping[str, int], where: str) -> AnnotatedObject:
    try:
        xtl, ytl, xbr, ybr = (float(box.get(k, "")) for k in ("xtl", "ytl", "xbr", "ybr"))
    except ValueError:
        raise BatchFormatError(where, "a <box> needs numeric xtl, ytl, xbr, ybr") from None
    return _object((xtl, ytl, xbr - xtl, ybr - ytl), box.get("label", ""), categories, where)


def _object(box: tuple[float, float, float, float], label: str, categories: Mapping[str, int],
            where: str) -> AnnotatedObject:
    if label not in categories:
        raise BatchFormatError(where, f"unknown label {label!r} (known: {', '.join(categories)})")
    if not all(math.isfinite(v) for v in box) or box[2] < 0 or box[3] < 0:
        raise BatchFormatError(where, f"box {box} is not a box (finite, width and height >= 0)")
    return AnnotatedObject(bbox=box, category_id=categories[label], attributes={})


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
