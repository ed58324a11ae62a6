"""Writers: :class:`Annotations` back to COCO ground-truth and results documents."""

from __future__ import annotations

import math
from typing import Any

from analysis.annotations.model import Annotations, Objects, Rle
from analysis.annotations.rle import encode_counts


def to_coco_ground_truth(ann: Annotations) -> dict[str, Any]:
    """A COCO ground-truth document; tags and inclusion probabilities go on image records."""
    images = ann.images
    image_records = []
    for f in range(len(images)):
        rec: dict[str, Any] = {
            "id": int(images.ids[f]), "width": int(images.width[f]),
            "height": int(images.height[f]), "file_name": images.file_names[f],
        }
        if ann.tags[f]:
            rec["tags"] = dict(ann.tags[f])
        if images.inclusion_prob[f] != 1.0:
            rec["inclusion_prob"] = float(images.inclusion_prob[f])
        if images.video_id[f] >= 0:
            rec["video_id"] = int(images.video_id[f])
        if images.frame_index[f] >= 0:
            rec["frame_index"] = int(images.frame_index[f])
        image_records.append(rec)
    return {
        "images": image_records,
        "annotations": _object_records(ann, ground_truth=True),
        "categories": _category_records(ann),
    }


def to_coco_results(ann: Annotations) -> list[dict[str, Any]] | dict[str, Any]:
    """A COCO results list, or the results object when there are frame-level labels."""
    records = _object_records(ann, ground_truth=False)
    frames = _frame_labels(ann)
    return {"annotations": records, "images": frames} if frames else records


def _category_records(ann: Annotations) -> list[dict[str, Any]]:
    cats = ann.categories
    return [
        {"id": int(cid), "name": name, "supercategory": sup}
        for cid, name, sup in zip(cats.ids.tolist(), cats.names, cats.supercategories, strict=True)
    ]


def _frame_labels(ann: Annotations) -> list[dict[str, Any]]:
    out = []
    for f in range(len(ann.images)):
        rec: dict[str, Any] = {"id": int(ann.images.ids[f])}
        if ann.tags[f]:
            rec["tags"] = dict(ann.tags[f])
        if not math.isnan(ann.confidence[f]):
            rec["confidence"] = float(ann.confidence[f])
        if ann.model_version[f] is not None:
            rec["model_version"] = ann.model_version[f]
        if len(rec) > 1:
            out.append(rec)
    return out


def _object_records(ann: Annotations, *, ground_truth: bool) -> list[dict[str, Any]]:
    obj: Objects = ann.objects
    image_ids = ann.images.ids[obj.frame].tolist()
    category_ids = ann.categories.ids[obj.category].tolist()
    out = []
    for i in range(len(obj)):
        rec: dict[str, Any] = {
            "image_id": image_ids[i], "category_id": category_ids[i],
            "bbox": [float(v) for v in obj.boxes[i]],
        }
        if not math.isnan(obj.score[i]):
            rec["score"] = float(obj.score[i])
        if ground_truth:
            rec.update(id=int(obj.ann_id[i]), area=float(obj.area[i]), iscrowd=int(obj.crowd[i]))
            if obj.ignore[i]:
                rec["ignore"] = 1
        _optional_fields(rec, obj, i)
        out.append(rec)
    return out


def _optional_fields(rec: dict[str, Any], obj: Objects, i: int) -> None:
    if obj.track_id[i] >= 0:
        rec["track_id"] = int(obj.track_id[i])
    attrs = obj.attributes.row(i) if obj.attributes is not None else None
    if attrs is not None:
        rec["attributes"] = attrs
    mask: Rle | None = obj.masks[i] if obj.masks is not None else None
    if mask is not None:
        rec["segmentation"] = {"size": [mask.height, mask.width], "counts": encode_counts(mask.counts)}
