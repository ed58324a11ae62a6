"""Geometry kinds as plug-ins: each computes overlaps for the matcher."""

from __future__ import annotations

from analysis.exceptions import InvalidInput
from analysis.geometry.base import Geometry
from analysis.geometry.boxes import BoxGeometry, box_iou
from analysis.geometry.masks import MaskGeometry

GEOMETRIES: dict[str, Geometry] = {"box": BoxGeometry(), "mask": MaskGeometry()}


def get_geometry(kind: str) -> Geometry:
    try:
        return GEOMETRIES[kind]
    except KeyError:
        raise InvalidInput("options", "geometry", f"unknown kind '{kind}' (known: {sorted(GEOMETRIES)})") from None


__all__ = ["GEOMETRIES", "BoxGeometry", "Geometry", "MaskGeometry", "box_iou", "get_geometry"]
