"""Each profile's labelling config (services/labelstudio/labeling.py), read back as Label Studio results."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from services.api.formats.label_studio import label_studio_answer
from services.exceptions import InvalidInput
from services.labelstudio.labeling import labeling, profile_of


def test_driving_has_rectangles_for_its_categories_choices_per_tag_and_per_region_attributes() -> None:
    driving = labeling("driving")
    root = ET.fromstring(driving.config())
    assert [e.get("value") for e in root.iter("Label")] == ["car", "pedestrian", "cyclist", "traffic_sign"]
    choices = {e.get("name"): (e.get("perRegion"), [c.get("value") for c in e.iter("Choice")])
               for e in root.iter("Choices")}
    assert choices == {"weather": (None, ["clear", "rain", "fog"]), "time_of_day": (None, ["day", "dusk", "night"]),
                       "occluded": ("true", ["true", "false"]), "truncated": ("true", ["true", "false"])}
    assert driving.title == "shadowqa driving"


def test_digits_is_one_choice_of_ten_and_no_rectangles() -> None:
    root = ET.fromstring(labeling("digits").config())
    assert list(root.iter("RectangleLabels")) == []
    (digit,) = root.iter("Choices")
    assert [c.get("value") for c in digit.iter("Choice")] == [str(d) for d in range(10)]


def test_what_the_config_lets_people_draw_is_read_back_in_pixels() -> None:
    driving = labeling("driving")
    result = [{"id": "a", "type": "rectanglelabels", "from_name": "label", "to_name": "image", "original_width": 320,
               "original_height": 192, "value": {"x": 25, "y": 50, "width": 10, "height": 25,
                                                 "rectanglelabels": ["cyclist"]}},
              {"id": "a", "type": "choices", "from_name": "truncated", "value": {"choices": ["false"]}},
              {"id": "b", "type": "choices", "from_name": "time_of_day", "value": {"choices": ["night"]}}]
    answer = label_studio_answer(result, driving.categories)
    assert answer.problems == [] and answer.tags == {"time_of_day": "night"}
    (box,) = answer.objects
    assert (box["geometry"]["xywh"], box["category_id"], box["attributes"]) == ([80, 96, 32, 48], 3,
                                                                                  {"truncated": "false"})


def test_profiles_come_from_frame_references() -> None:
    assert profile_of("synthetic://driving?seed=3#12") == "driving"
    assert profile_of("sklearn-digits://#12") == "digits"
    with pytest.raises(InvalidInput, match="profile"):
        profile_of("file:///tmp/frame.png")
    with pytest.raises(InvalidInput, match="no labelling"):
        labeling("lidar")
