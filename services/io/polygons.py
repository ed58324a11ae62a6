"""COCO polygons rasterised by pycocotools, the way COCO's own evaluation does it.

pycocotools' ``COCO.annToRLE`` turns an object's polygon parts into one mask
with ``frPyObjects(parts, h, w)`` then ``merge``; the pixels it picks decide
every mask IoU COCOeval reports. Using the same C code here, rather than a
second rasteriser in ``analysis/``, makes mask IoU of polygon ground truth
equal COCO's to the last pixel. ``analysis/`` checks the polygons and takes this
function as its :class:`~analysis.annotations.polygons.Rasteriser`.
"""

from __future__ import annotations

from collections.abc import Sequence

from pycocotools import mask as mask_utils

from analysis.annotations.model import Rle
from analysis.annotations.polygons import Polygon
from analysis.annotations.rle import decode_counts


def rasterise_polygons(parts: Sequence[Polygon], height: int, width: int) -> Rle:
    """The union of the polygon parts as one mask, exactly as pycocotools' ``annToRLE``."""
    rles = mask_utils.frPyObjects([list(p) for p in parts], height, width)
    merged = mask_utils.merge(rles)
    return Rle(height, width, decode_counts(merged["counts"].decode("ascii")))
