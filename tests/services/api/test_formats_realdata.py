"""The batch readers on files Label Studio and CVAT users published (../shared/realdata, read in place).

These files carry neither shadowqa task ids nor our category names: each test reads one task's answer with the
format's own function and a category map made from the file's labels (ids in order of first appearance).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from services.api import formats
from tests.utils.realdata import realdata


def box2d(xywh: Any) -> dict[str, Any]:
    """An object's tagged box geometry, as the readers give it (the wire's form)."""
    return {"type": "box2d", "xywh": xywh}


def _label_studio(name: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = json.loads(realdata(f"label_studio/{name}").read_text(encoding="utf-8"))
    return tasks


def _ls_categories(tasks: list[dict[str, Any]]) -> dict[str, int]:
    names = [n for t in tasks for a in t["annotations"] for r in a["result"] for n in r["value"]["rectanglelabels"]]
    return {name: k for k, name in enumerate(dict.fromkeys(names), start=1)}


def _enclosing(result: dict[str, Any]) -> list[float]:
    """The enclosing box of a Label Studio rectangle, computed apart from the reader: the rectangle's corners in
    pixels turned by a numpy rotation matrix about the top-left corner (Label Studio's convention)."""
    v, width, height = result["value"], result["original_width"], result["original_height"]
    w, h = v["width"] * width / 100, v["height"] * height / 100
    a = math.radians(v["rotation"])
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    top_left = np.array([v["x"] * width / 100, v["y"] * height / 100])
    corners = (turn @ np.array([[0, w, w, 0], [0, 0, h, h]])).T + top_left
    low, high = corners.min(axis=0), corners.max(axis=0)
    return [*low.tolist(), *(high - low).tolist()]


def test_label_studio_rotated_rectangles_become_their_enclosing_boxes() -> None:
    tasks = _label_studio("yolo_data_obb.json")
    categories = _ls_categories(tasks)
    rotated = 0
    for task in tasks:
        (annotation,) = task["annotations"]
        answer = formats.label_studio_answer(annotation["result"], categories)
        assert answer.problems == [] and answer.tags == {}
        assert len(answer.objects) == len(annotation["result"])
        for obj, result in zip(answer.objects, annotation["result"], strict=True):
            assert obj["geometry"]["xywh"] == pytest.approx(_enclosing(result), rel=1e-12, abs=1e-9)
            assert obj["attributes"] == {"rotation": result["value"]["rotation"]}
            assert obj["category_id"] == categories[result["value"]["rectanglelabels"][0]]
            rotated += result["value"]["rotation"] != 0
    assert rotated == 25, "SOURCES.md: 3 tasks, 25 rotated rectangles"


def test_label_studio_rotated_rectangles_are_refused_when_the_import_asks() -> None:
    tasks = _label_studio("yolo_data_obb.json")
    for task in tasks:
        answer = formats.label_studio_answer(task["annotations"][0]["result"], _ls_categories(tasks), "refuse")
        assert answer.objects == [] and len(answer.problems) == len(task["annotations"][0]["result"])
        assert all("rotated by" in problem for problem in answer.problems)


def test_label_studio_boxes_are_two_per_annotation_in_pixels() -> None:
    tasks = _label_studio("yolo_data.json")
    categories = _ls_categories(tasks)
    annotations = [a for t in tasks for a in t["annotations"]]
    assert len(annotations) == 3, "task 1 annotated by two people, task 2 by one"
    for annotation in annotations:
        answer = formats.label_studio_answer(annotation["result"], categories)
        assert answer.problems == [] and len(answer.objects) == 2
        for obj, result in zip(answer.objects, annotation["result"], strict=True):
            v = result["value"]
            pixels = [v["x"] * 28, v["y"] * 28, v["width"] * 28, v["height"] * 28]  # 2800 px / 100
            assert obj == {"geometry": box2d(pytest.approx(pixels)),
                           "category_id": categories[v["rectanglelabels"][0]], "attributes": {}}


def test_a_label_studio_region_choice_is_an_attribute_of_its_box() -> None:
    box = {"id": "r1", "type": "rectanglelabels", "original_width": 200, "original_height": 100,
           "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "rectanglelabels": ["car"]}}
    region = {"id": "r1", "type": "choices", "from_name": "occluded", "value": {"choices": ["yes"]}}
    image = {"id": "t1", "type": "choices", "from_name": "weather", "value": {"choices": ["rain"]}}
    answer = formats.label_studio_answer([region, box, image], {"car": 1})
    assert answer.objects == [{"geometry": box2d([20.0, 20.0, 60.0, 40.0]), "category_id": 1,
                               "attributes": {"occluded": "yes"}}]
    assert answer.tags == {"weather": "rain"}


def _cvat(name: str) -> tuple[bytes, dict[str, int]]:
    document = realdata(f"cvat/{name}").read_bytes()
    names = [label.findtext("name") or "" for label in formats.cvat_root(document).iter("label")]
    return document, {name: k for k, name in enumerate(dict.fromkeys(names), start=1)}


def test_cvat_documented_example_reads_its_box_and_its_plain_tag() -> None:
    document, categories = _cvat("cvat_docs_xml_format_example.xml")
    (image,) = formats.cvat_root(document).iter("image")
    answer = formats.cvat_answer(image, categories)
    assert answer.objects == [{"geometry": box2d(pytest.approx([797.33, 870.92, 965.52 - 797.33, 928.94 - 870.92])),
                               "category_id": categories["plate"], "attributes": {}}]
    assert answer.tags == {"good_frame": formats.PRESENT}
    assert [p.split(" is a ")[1].split()[0] for p in answer.problems] == ["polygon", "polyline", "polyline", "points"]

    (rejected,) = formats.from_cvat(document, categories)  # the whole answer or nothing: the shapes are not boxes
    assert isinstance(rejected, formats.Rejected) and rejected.task_id == "filename000.jpg"
    assert "is a polygon" in rejected.reason and "is a points" in rejected.reason
    (imported,) = formats.from_cvat(document, categories, others="ignore")  # unless the import says to leave them
    assert isinstance(imported, formats.Submission)
    assert (imported.objects, imported.tags) == (answer.objects, answer.tags)
    assert len(imported.left_out) == 4


def test_cvat_datumaro_example_reads_the_box_of_img0() -> None:
    document, categories = _cvat("datumaro_for_images_train.xml")
    img0, img1 = formats.cvat_root(document).iter("image")
    answer = formats.cvat_answer(img0, categories)
    assert answer.objects == [{"geometry": box2d([0.0, 2.0, 4.0, 2.0]), "category_id": categories["label1"],
                               "attributes": {"a1": "true", "a2": "v3", "a3": "0003", "a4": "2.4"}}]
    assert ["polyline" in answer.problems[0], "skeleton" in answer.problems[1]] == [True, True]
    other = formats.cvat_answer(img1, categories)
    assert other.objects == [] and len(other.problems) == 3  # polygon, points, skeleton
    outcomes = formats.from_cvat(document, categories)
    assert [(type(o).__name__, o.task_id) for o in outcomes] == [("Rejected", "img0.jpg"), ("Rejected", "img1.jpg")]


def test_cvat_project_export_from_dagshub_parses() -> None:
    document, categories = _cvat("dagshub_annotations.xml")
    answers = {image.get("name"): formats.cvat_answer(image, categories)
               for image in formats.cvat_root(document).iter("image")}
    boxes = {name: [(o["category_id"], [round(v, 2) for v in o["geometry"]["xywh"]]) for o in a.objects]
             for name, a in answers.items()}
    assert boxes == {
        "001.png": [(categories["Baby Yoda"], [748.06, 379.10, 402.98, 573.14])],
        "002.png": [(categories["Person"], [768.95, 464.68, 291.55, 439.80]),
                    (categories["Baby Yoda"], [676.42, 662.69, 87.56, 145.27])],
        "003.png": [(categories["Person"], [872.64, 218.01, 757.21, 778.11])],
        "004.png": [],
    }
    assert [len(a.problems) for a in answers.values()] == [0, 4, 1, 1]  # 4 polygons, a points, a skeleton
