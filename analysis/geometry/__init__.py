"""Geometry kinds as plug-ins: one module per kind, found by name in a registry.

A kind (``box2d``, ``mask``, ``polygon``, ``cuboid3d``) reads and writes its tagged wire form,
stores its values as a column block of :class:`Objects`, gives the area and
height the QA spec's size rules read, and computes IoU for the matcher. A new
kind is one module with a class decorated by :func:`register`; importing it is
all it takes.
"""

from __future__ import annotations

from analysis.geometry.base import Geometry, GeometryKind
from analysis.geometry.boxes import BoxGeometry, box_iou
from analysis.geometry.cuboids import Cuboid, CuboidGeometry
from analysis.geometry.masks import MaskGeometry
from analysis.geometry.polygons import PolygonGeometry
from analysis.geometry.registry import (
    GEOMETRIES,
    extent_of,
    get_geometry,
    known,
    read_geometry,
    register,
    unregister,
    write_geometry,
)

__all__ = [
    "GEOMETRIES",
    "BoxGeometry",
    "Cuboid",
    "CuboidGeometry",
    "Geometry",
    "GeometryKind",
    "MaskGeometry",
    "PolygonGeometry",
    "box_iou",
    "extent_of",
    "get_geometry",
    "known",
    "read_geometry",
    "register",
    "unregister",
    "write_geometry",
]
