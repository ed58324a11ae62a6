"""COCO ``segmentation`` fields into masks, and what pycocotools derives from them (box, area).

A segmentation is RLE (an object with ``size`` and ``counts``) or polygons (a
list of parts, rasterised by the caller's :class:`Rasteriser`). Results may
carry a mask without a box: pycocotools' ``loadRes`` then takes the box from
the mask (``toBbox``) and, for the whole file, the area from the mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.annotations import rle
from analysis.annotations.model import BoolArray, FloatArray, Images, IntArray, Rle
from analysis.annotations.polygons import Rasteriser, parse_polygons
from analysis.exceptions import AnalysisFailed, InvalidInput

Masks = list[Rle | None]


def parse_segmentation(
    value: Any, source: str, where: str, image_size: tuple[int, int], rasterise: Rasteriser | None,
) -> Rle:
    """One ``segmentation`` value as a mask of ``image_size`` (height, width)."""
    if isinstance(value, list):
        return parse_polygons(value, source, where, image_size, rasterise)
    return rle.parse_rle(value, source, where, image_size)


def object_masks(
    items: list[dict[str, Any]], rows: IntArray, frame: IntArray, images: Images, *,
    source: str, section: str, rasterise: Rasteriser | None, required: bool,
) -> Masks:
    """The mask of each record in ``rows`` (None where it has no segmentation); None elsewhere.

    With ``required`` (mask IoU asked for) a record without a segmentation is refused.
    """
    out: Masks = [None] * len(items)
    for i in rows.tolist():
        seg = items[i].get("segmentation")
        if seg is None and required:
            raise InvalidInput(source, f"{section}[{i}]", "missing required field 'segmentation' "
                               "(mask IoU needs a mask on every object)")
        if seg is None:
            continue
        f = int(frame[i])
        size = (int(images.height[f]), int(images.width[f]))
        out[i] = parse_segmentation(seg, source, f"{section}[{i}].segmentation", size, rasterise)
    return out


def boxes_from_masks(boxes: FloatArray, boxless: BoolArray, masks: Masks) -> FloatArray:
    """``boxes`` with the rows in ``boxless`` replaced by their mask's box (pycocotools' ``toBbox``)."""
    if not boxless.any():
        return boxes
    out = boxes.copy()
    for i in np.flatnonzero(boxless).tolist():
        mask = masks[i]
        if mask is None:  # the reader refuses a record with neither, so this is a bug, not bad input
            raise AnalysisFailed(f"object {i} has neither a box nor a mask")
        out[i] = rle.bbox(mask)
    return out


def mask_areas(masks: Masks) -> FloatArray:
    """Each mask's pixel count, NaN where there is no mask."""
    return np.array([np.nan if m is None else rle.area(m) for m in masks], dtype=np.float64)
