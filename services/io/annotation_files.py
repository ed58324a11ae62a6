"""COCO annotation files and quality spec files, read into the analysis model.

Polygon segmentations are rasterised by pycocotools (:mod:`services.io.polygons`).
"""

from __future__ import annotations

from pathlib import Path

from analysis.agreement import QualitySpec
from analysis.annotations import Annotations, parse_automation, parse_ground_truth
from services.io.files import paused_gc, read_json, read_yaml
from services.io.polygons import rasterise_polygons


def load_manual(path: str | Path, *, with_masks: bool = False) -> Annotations:
    with paused_gc():
        return parse_ground_truth(read_json(path), str(path), with_masks=with_masks, rasterise=rasterise_polygons)


def load_automation(path: str | Path, manual: Annotations, *, with_masks: bool = False) -> Annotations:
    with paused_gc():
        return parse_automation(
            read_json(path), str(path), manual, with_masks=with_masks, rasterise=rasterise_polygons,
        )


def load_spec(path: str | Path | None) -> QualitySpec:
    if path is None:
        return QualitySpec()
    return QualitySpec.from_mapping(read_yaml(path), str(path))
