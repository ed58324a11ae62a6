"""Per-image text box files of two public evaluators, as COCO documents (test helpers, not a product reader).

One ``.txt`` per image, one object per line, the class name first (no spaces):

* rafaelpadilla/Object-Detection-Metrics: ground truth ``class left top width height``,
  detections ``class confidence left top width height``; its sample's images are 200x200.
* Cartucho/mAP: ground truth ``class left top right bottom``, detections
  ``class confidence left top right bottom`` (width = right - left).

Images are numbered by sorted file name, categories by sorted class name over
both sides; ground truth gets ``area`` = width x height, as pycocotools needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

Doc = dict[str, Any]


def text_boxes_to_coco(
    gt_dir: Path, dt_dir: Path, *, corners: bool, image_size: tuple[int, int] = (0, 0),
) -> tuple[Doc, list[Doc]]:
    """(ground-truth document, results list); ``corners``: boxes are left top right bottom."""
    gts, dts = _read(gt_dir, scored=False), _read(dt_dir, scored=True)
    stems = sorted(set(gts) | set(dts))
    classes = sorted({row[0] for rows in (*gts.values(), *dts.values()) for row in rows})
    image_id = {stem: i + 1 for i, stem in enumerate(stems)}
    category_id = {name: i + 1 for i, name in enumerate(classes)}
    width, height = image_size
    annotations = []
    for stem in stems:
        for name, _, box in gts.get(stem, []):
            xywh = _xywh(box, corners)
            annotations.append({"id": len(annotations) + 1, "image_id": image_id[stem],
                                "category_id": category_id[name], "bbox": xywh, "area": xywh[2] * xywh[3],
                                "iscrowd": 0})
    results = [
        {"image_id": image_id[stem], "category_id": category_id[name], "bbox": _xywh(box, corners), "score": score}
        for stem in stems for name, score, box in dts.get(stem, [])
    ]
    doc = {
        "images": [{"id": image_id[s], "file_name": s, "width": width, "height": height} for s in stems],
        "categories": [{"id": category_id[c], "name": c} for c in classes],
        "annotations": annotations,
    }
    return doc, results


Row = tuple[str, float, list[float]]


def _read(folder: Path, *, scored: bool) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for path in sorted(folder.glob("*.txt")):
        rows = out.setdefault(path.stem, [])
        for line in path.read_text().splitlines():
            fields = line.split()
            if not fields:
                continue
            if len(fields) != (6 if scored else 5):
                raise ValueError(f"{path}: unexpected line {line!r}")
            numbers = [float(v) for v in fields[1:]]
            score = numbers.pop(0) if scored else float("nan")
            rows.append((fields[0], score, numbers))
    return out


def _xywh(box: list[float], corners: bool) -> list[float]:
    left, top, a, b = box
    return [left, top, a - left, b - top] if corners else [left, top, a, b]
