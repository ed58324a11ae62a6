"""Annotation files (COCO, or ASAM OpenLABEL: told apart by content) and quality spec files,
read into the analysis model.

Polygon segmentations are rasterised by pycocotools (:mod:`services.io.polygons`). An OpenLABEL
file gives the objects of geometry ``kind`` (box2d from ``bbox``, cuboid3d from ``cuboid``); a
machine-side one carries each object's score as a ``num`` object data named ``score``.
"""

from __future__ import annotations

from pathlib import Path

from analysis.agreement import QualitySpec
from analysis.annotations import Annotations, parse_automation, parse_ground_truth
from services.io.files import paused_gc, read_json, read_yaml
from services.io.openlabel import is_openlabel, read_openlabel, to_annotations
from services.io.polygons import rasterise_polygons


def load_manual(path: str | Path, *, with_masks: bool = False, kind: str | None = None) -> Annotations:
    with paused_gc():
        doc = read_json(path)
        if is_openlabel(doc):
            return to_annotations(read_openlabel(doc, str(path)), str(path), kind=kind)
        return parse_ground_truth(doc, str(path), with_masks=with_masks, rasterise=rasterise_polygons)


def load_automation(
    path: str | Path, manual: Annotations, *, with_masks: bool = False, kind: str | None = None,
) -> Annotations:
    with paused_gc():
        doc = read_json(path)
        if is_openlabel(doc):
            return to_annotations(read_openlabel(doc, str(path)), str(path), kind=kind,
                                  categories=manual.categories, images=manual.images)
        return parse_automation(doc, str(path), manual, with_masks=with_masks, rasterise=rasterise_polygons)


def load_spec(path: str | Path | None) -> QualitySpec:
    if path is None:
        return QualitySpec()
    return QualitySpec.from_mapping(read_yaml(path), str(path))
