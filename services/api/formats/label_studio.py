"""Label Studio batches: the tasks and labeling config sent out, and the tool's JSON export read back.

Boxes are ``rectanglelabels`` results in percent of ``original_width`` and
``original_height``, converted to pixels. A rotated rectangle (``value.rotation``
degrees, about its top-left corner, clockwise on the image: Label Studio's
convention, as in label-studio-converter's ``convert_annotation_to_yolo_obb``)
becomes its enclosing axis-aligned box with the angle kept as the attribute
``rotation``, or rejects the task when the import asks ``rotated=refuse``.
``choices`` results are image tags (the tag is ``from_name``), or attributes
of a box when they belong to its region (the same result ``id``). Any other
result (polygonlabels, keypointlabels, brushlabels, ...) rejects its task, or is
left out and listed with ``other_shapes=ignore``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.api.formats.common import (
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


def label_studio_tasks(tasks: Sequence[BatchTask]) -> list[dict[str, Any]]:
    return [{"id": k, "data": {"image": t.image_url, "shadowqa_task_id": t.task_id, "frame_id": t.frame_id,
                               "stratum": t.stratum, "width": t.width, "height": t.height}}
            for k, t in enumerate(tasks, start=1)]


def label_studio_config(category_names: Sequence[str], tag_values: Mapping[str, Sequence[str]],
                        region_attributes: Mapping[str, Sequence[str]] | None = None) -> str:
    """A labeling config: rectangles with the categories (none without categories), one single choice per image
    tag, and one per-region single choice per box attribute (shown for the selected box)."""
    labels = "".join(f'<Label value="{_xml(n)}"/>' for n in category_names)
    boxes = f'<RectangleLabels name="label" toName="image">{labels}</RectangleLabels>' if labels else ""
    choices = "".join(_choices(k, values) for k, values in tag_values.items())
    per_region = "".join(_choices(k, values, ' perRegion="true"') for k, values in (region_attributes or {}).items())
    return f'<View><Image name="image" value="$image"/>{boxes}{choices}{per_region}</View>'


def _choices(name: str, values: Sequence[str], extra: str = "") -> str:
    header = f'<Header value="{_xml(name)}"/>' if extra else ""
    return (f'{header}<Choices name="{_xml(name)}" toName="image" choice="single"{extra}>'
            + "".join(f'<Choice value="{_xml(v)}"/>' for v in values) + "</Choices>")


def from_label_studio(document: Any, categories: Mapping[str, int], rotated: Rotated = "enclose",
                      others: Others = "reject") -> list[Submission | Rejected]:
    """Each annotated task of Label Studio's JSON export of a batch (a list of tasks with ``annotations``): its
    first annotation that was not cancelled, or why it is rejected. Tasks nobody annotated are left out."""
    if not isinstance(document, list):
        raise BatchFormatError("document", "expected Label Studio's JSON export: a list of tasks")
    out: list[Submission | Rejected] = []
    for k, task in enumerate(document):
        tid = _task_id(task, f"task {k}")
        first = _first_answer(task.get("annotations"), f"task {tid!r}")
        if first is not None:  # else: not annotated in the tool, the task stays leased until its lease runs out
            out.append(outcome(tid, label_studio_answer(first.get("result"), categories, rotated, others,
                                                        f"task {tid!r}")))
    return out


def label_studio_answer(result: Any, categories: Mapping[str, int], rotated: Rotated = "enclose",
                        others: Others = "reject", where: str = "annotation") -> Answer:
    """One annotation's ``result`` list read as boxes and tags (any task's: no shadowqa task id needed)."""
    if result is None:
        return Answer()
    if not isinstance(result, list):
        raise BatchFormatError(where, f"result: expected a list, got {type(result).__name__}")
    answer, regions = Answer(), dict[str, dict[str, Any]]()  # region id -> its box
    items = [(j, _item(item, f"{where}: result {j}")) for j, item in enumerate(result)]
    for j, item in items:  # boxes first: a region's choices may come before the region
        added = item["type"] == "rectanglelabels" and _ls_box(item, categories, rotated, f"{where}: result {j}",
                                                              answer)
        if added and _region(item):
            regions[_region(item)] = answer.objects[-1]
    for j, item in items:
        if item["type"] == "choices":
            _ls_choice(item, f"{where}: result {j}", answer, regions)
        elif item["type"] != "rectanglelabels":
            answer.not_read(f"result {j} is a {item['type']!r} result (this API reads rectanglelabels and "
                            "choices)", others)
    return answer


def _task_id(task: Any, where: str) -> str:
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise BatchFormatError(where, "expected an object with 'data'")
    return task_id(task["data"].get("shadowqa_task_id"), where, "data.shadowqa_task_id")


def _first_answer(annotations: Any, where: str) -> dict[str, Any] | None:
    if annotations is None:
        return None
    if not isinstance(annotations, list):
        raise BatchFormatError(where, f"annotations: expected a list, got {type(annotations).__name__}")
    for j, annotation in enumerate(annotations):
        if not isinstance(annotation, dict):
            raise BatchFormatError(where, f"annotations[{j}]: expected an object, got {type(annotation).__name__}")
    return next((a for a in annotations if not a.get("was_cancelled")), None)


def _item(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        raise BatchFormatError(where, "expected an object with a 'type'")
    if item["type"] in ("rectanglelabels", "choices") and not isinstance(item.get("value"), dict):
        raise BatchFormatError(where, f"value: expected an object, got {type(item.get('value')).__name__}")
    return item


def _ls_box(item: Mapping[str, Any], categories: Mapping[str, int], rotated: Rotated, where: str,
            answer: Answer) -> bool:
    """Add the box of a ``rectanglelabels`` result to ``answer`` (or a problem); whether it was added."""
    value = item["value"]
    names = value.get("rectanglelabels")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BatchFormatError(where, "value.rectanglelabels: expected a list of label names")
    width = number(item.get("original_width"), where, "original_width")
    height = number(item.get("original_height"), where, "original_height")
    if width <= 0 or height <= 0:
        raise BatchFormatError(where, "original_width and original_height must be > 0 (they convert percent to "
                                      "pixels)")
    x, y, w, h = (number(value.get(k), where, f"value.{k}") for k in ("x", "y", "width", "height"))
    angle = number(value.get("rotation", 0), where, "value.rotation")
    part = where.rsplit(": ", 1)[-1]
    if len(names) != 1 or w < 0 or h < 0:
        answer.problems.append(f"{part}: a box needs exactly one label and a width and height >= 0")
        return False
    box = (x * width / 100.0, y * height / 100.0, w * width / 100.0, h * height / 100.0)
    if angle % 360 == 0:
        return answer.add_object(box, names[0], categories, part)
    if rotated == "refuse":
        answer.problems.append(f"{part}: a box rotated by {angle:g} degrees (refused as asked; rotated=enclose "
                               "imports its enclosing box)")
        return False
    corners = rotated_corners(*box, angle, about=(box[0], box[1]))  # Label Studio turns about the top-left
    return answer.add_object(enclosing_box(corners), names[0], categories, part, {"rotation": angle})


def _ls_choice(item: Mapping[str, Any], where: str, answer: Answer, regions: Mapping[str, dict[str, Any]]) -> None:
    chosen, name = item["value"].get("choices"), item.get("from_name")
    if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
        raise BatchFormatError(where, "value.choices: expected a list of strings")
    if not isinstance(name, str) or not name:
        raise BatchFormatError(where, "from_name: expected the name of the choice (the tag)")
    if len(chosen) != 1:
        answer.problems.append(f"{where.rsplit(': ', 1)[-1]}: {name!r} needs exactly one choice, got {len(chosen)}")
    elif _region(item) and _region(item) in regions:  # a per-region choice: an attribute of that region's box
        regions[_region(item)]["attributes"][name] = chosen[0]
    else:
        answer.add_tag(name, chosen[0])


def _region(item: Mapping[str, Any]) -> str:
    """The result's region id (Label Studio gives the results of one region one ``id``), or "" for none."""
    region = item.get("id")
    return region if isinstance(region, str) else ""


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
