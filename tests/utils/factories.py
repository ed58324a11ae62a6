"""Random COCO documents built to stress matching rules: crowd regions, score ties,
near-duplicate boxes, empty images and non-contiguous category ids."""

from __future__ import annotations

from typing import Any

import numpy as np

CATEGORY_IDS = (3, 7, 18, 90)  # non-contiguous on purpose


def random_coco_pair(
    seed: int, n_images: int = 60, max_objects: int = 12, crowd_rate: float = 0.08,
    score_levels: int = 5, with_tags: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A ground-truth document and a results list that disagree in realistic ways."""
    rng = np.random.default_rng(seed)
    images, gts, dts = [], [], []
    for image_id in rng.choice(np.arange(1, 10 * n_images), size=n_images, replace=False).tolist():
        images.append(_image(rng, image_id, with_tags))
        if rng.random() < 0.05:  # nothing on either side
            continue
        n = 0 if rng.random() < 0.1 else int(rng.integers(1, max_objects + 1))
        for _ in range(n):
            gt = _object(rng, image_id, len(gts) + 1, crowd_rate)
            gts.append(gt)
            dts.extend(_detections_for(rng, gt, score_levels))
        dts.extend(_clutter(rng, image_id, score_levels, int(rng.integers(0, 4))))
    cats = [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in CATEGORY_IDS]
    return {"images": images, "annotations": gts, "categories": cats}, dts


def _image(rng: np.random.Generator, image_id: int, with_tags: bool) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": image_id, "width": 320, "height": 192, "file_name": f"{image_id}.png"}
    if with_tags:
        rec["tags"] = {"weather": str(rng.choice(["clear", "rain", "fog"]))}
    return rec


def _object(rng: np.random.Generator, image_id: int, ann_id: int, crowd_rate: float) -> dict[str, Any]:
    w, h = (float(v) for v in rng.integers(2, 80, size=2))
    x, y = float(rng.integers(0, 300)), float(rng.integers(0, 180))
    crowd = int(rng.random() < crowd_rate)
    area = w * h * float(rng.uniform(0.5, 1.0))
    return {
        "id": ann_id, "image_id": image_id, "category_id": int(rng.choice(CATEGORY_IDS)),
        "bbox": [x, y, w, h], "area": area, "iscrowd": crowd,
    }


def _detections_for(rng: np.random.Generator, gt: dict[str, Any], levels: int) -> list[dict[str, Any]]:
    out = []
    copies = int(rng.choice([0, 1, 1, 1, 2, 3]))
    for _ in range(copies):
        x, y, w, h = gt["bbox"]
        jitter = rng.integers(-3, 4, size=4).astype(float) * max(1.0, min(w, h) / 10)
        box = [float(x + jitter[0]), float(y + jitter[1]),
               float(max(1.0, w + jitter[2])), float(max(1.0, h + jitter[3]))]
        cat = gt["category_id"] if rng.random() < 0.85 else int(rng.choice(CATEGORY_IDS))
        out.append(_result(rng, gt["image_id"], cat, box, levels))
    return out


def _clutter(rng: np.random.Generator, image_id: int, levels: int, n: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        w, h = (float(v) for v in rng.integers(2, 60, size=2))
        box = [float(rng.integers(0, 300)), float(rng.integers(0, 180)), w, h]
        out.append(_result(rng, image_id, int(rng.choice(CATEGORY_IDS)), box, levels))
    return out


def _result(rng: np.random.Generator, image_id: int, cat: int, box: list[float], levels: int) -> dict[str, Any]:
    score = float(rng.integers(1, levels + 1)) / levels  # few levels: many exact ties
    return {"image_id": image_id, "category_id": cat, "bbox": box, "score": score}
