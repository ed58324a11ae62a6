"""Geometry kinds by registry: names and aliases, wire forms, sizes, polygon IoU."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.annotations.model import Rle
from analysis.exceptions import InvalidInput
from analysis.geometry import (
    BoxGeometry,
    get_geometry,
    known,
    read_geometry,
    write_geometry,
)
from analysis.geometry.polygons import _iou as polygon_iou


def test_the_built_in_kinds_are_registered_and_box_is_an_alias() -> None:
    assert {"box2d", "mask", "polygon"} <= set(known())
    assert isinstance(get_geometry("box"), BoxGeometry) and get_geometry("box") is get_geometry("box2d")


def test_an_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"unknown kind 'cuboid'.*'box2d'.*'mask'.*'polygon'"):
        get_geometry("cuboid")


@pytest.mark.parametrize(("doc", "value"), [
    ({"type": "box2d", "xywh": [1, 2.5, 3, 4]}, (1.0, 2.5, 3.0, 4.0)),
    ({"type": "mask", "size": [2, 3], "counts": [1, 2, 3]}, Rle(2, 3, (1, 2, 3))),
    ({"type": "polygon", "parts": [[0, 0, 4, 0, 4, 2]]}, ((0.0, 0.0, 4.0, 0.0, 4.0, 2.0),)),
])
def test_wire_forms_read_and_write_back(doc: dict[str, Any], value: Any) -> None:
    kind, read = read_geometry(doc, "msg", "geometry")
    assert (kind, read) == (doc["type"], value)
    again = write_geometry(kind, read)
    assert read_geometry(again, "msg", "geometry") == (kind, value)


@pytest.mark.parametrize(("doc", "problem"), [
    ({"xywh": [0, 0, 1, 1]}, r"geometry: missing required field 'type'"),
    ({"type": "cuboid"}, r"geometry.type: unknown geometry kind 'cuboid'"),
    ({"type": "box2d", "xywh": [0, 0, -1, 1]}, r"geometry.xywh: width is negative"),
    ({"type": "box2d", "xywh": [0, 0, 1]}, r"geometry.xywh: expected \[x, y, width, height\], got 3 values"),
    ({"type": "box2d", "xywh": [0, float("nan"), 1, 1]}, r"geometry.xywh\[1\]: must be finite"),
    ({"type": "box2d", "xywh": [10**400, 0, 1, 1]}, r"geometry.xywh\[0\]: must be finite, got an integer of 1329"),
    ({"type": "box2d", "xywh": [10**400, -10**400, 1, 1]}, r"geometry.xywh\[0\]: must be finite"),  # sum 2
    ({"type": "polygon", "parts": [[0, 0, 4, -10**400, 2, 3]]}, r"geometry.parts\[0\]\[3\]: must be finite"),
    ({"type": "mask", "size": [2, 2], "counts": [1, 2]}, r"runs cover 3 pixels, the mask has 4"),
    ({"type": "polygon", "parts": [[0, 0, 1, 1]]}, r"geometry.parts\[0\]: a polygon part needs"),
    ({"type": "polygon", "parts": []}, r"needs at least one part"),
])
def test_bad_wire_forms_name_the_field(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        read_geometry(doc, "msg", "geometry")


@pytest.mark.parametrize(("kind", "values", "area", "height"), [
    ("box2d", [(0, 0, 3, 4), (1, 1, 0, 2)], [12, 0], [4, 2]),
    ("mask", [Rle(2, 3, (1, 2, 3)), None], [2, np.nan], [2, np.nan]),
    ("polygon", [((0, 0, 4, 0, 4, 2, 0, 2),), ((0, 0, 4, 0, 0, 4),)], [8, 6], [2, 4]),
])
def test_area_and_height_per_kind(kind: str, values: list[Any], area: list[float], height: list[float]) -> None:
    geometry = get_geometry(kind)
    block = geometry.column(values)
    np.testing.assert_array_equal(geometry.area(block), area)
    np.testing.assert_array_equal(geometry.extent(block), height)


def square(x: float, y: float, s: float) -> tuple[tuple[float, ...], ...]:
    return ((x, y, x + s, y, x + s, y + s, x, y + s),)


@pytest.mark.parametrize(("d", "g", "crowd", "expected"), [
    (square(0, 0, 10), square(0, 0, 10), False, 1.0),
    (square(0, 0, 10), square(5, 0, 10), False, 50 / 150),
    (square(0, 0, 10), square(10, 0, 10), False, 0.0),
    (square(0, 0, 4), square(0, 0, 8), True, 1.0),  # crowd: intersection over the detection's area
    (square(0, 0, 10) + square(20, 0, 10), square(20, 0, 10), False, 0.5),  # two parts: their union
])
def test_polygon_iou_on_whole_pixel_squares_equals_the_exact_area_ratio(
    d: tuple[tuple[float, ...], ...], g: tuple[tuple[float, ...], ...], crowd: bool, expected: float,
) -> None:
    assert polygon_iou(d, g, crowd) == pytest.approx(expected)
