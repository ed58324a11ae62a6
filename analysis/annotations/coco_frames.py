"""COCO ``images`` and ``categories`` sections: parsed and checked record by record."""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.annotations import checks
from analysis.annotations.model import Categories, Images, Tags
from analysis.exceptions import InvalidInput


def parse_categories(value: Any, source: str) -> Categories:
    items = checks.as_list(value, source, "categories")
    ids: list[int] = []
    names: list[str] = []
    supers: list[str] = []
    seen: dict[int, int] = {}
    for i, item in enumerate(items):
        where = f"categories[{i}]"
        rec = checks.as_record(item, source, where)
        cid = checks.integer(
            checks.field(rec, "id", source, where), source, f"{where}.id",
            minimum=0,
        )
        if cid in seen:
            raise InvalidInput(source, f"{where}.id", f"duplicate category id {cid} (first at categories[{seen[cid]}])")
        seen[cid] = i
        ids.append(cid)
        name = checks.text(checks.field(rec, "name", source, where), source, f"{where}.name")
        if name in names:  # results are reported by class name
            first = names.index(name)
            problem = f"duplicate category name {name!r} (first at categories[{first}])"
            raise InvalidInput(source, f"{where}.name", problem)
        names.append(name)
        supers.append(checks.text(rec.get("supercategory", ""), source, f"{where}.supercategory"))
    return Categories(np.array(ids, dtype=np.int64), tuple(names), tuple(supers))


def parse_images(value: Any, source: str) -> tuple[Images, list[Tags]]:
    """The frames of a ground-truth file, and the image-level tags on them."""
    items = checks.as_list(value, source, "images")
    ids, widths, heights, probs, videos, frame_indices = [], [], [], [], [], []
    names: list[str] = []
    tags: list[Tags] = []
    index: dict[int, int] = {}
    for i, item in enumerate(items):
        where = f"images[{i}]"
        rec = checks.as_record(item, source, where)
        iid = checks.integer(checks.field(rec, "id", source, where), source, f"{where}.id")
        if iid in index:
            raise InvalidInput(source, f"{where}.id", f"duplicate image id {iid} (first at images[{index[iid]}])")
        index[iid] = i
        ids.append(iid)
        widths.append(checks.integer(rec.get("width", 0), source, f"{where}.width", minimum=0))
        heights.append(checks.integer(rec.get("height", 0), source, f"{where}.height", minimum=0))
        names.append(checks.text(rec.get("file_name", ""), source, f"{where}.file_name"))
        probs.append(_inclusion_prob(rec, source, where))
        tags.append(checks.tags(rec.get("tags", {}), source, f"{where}.tags"))
        videos.append(checks.integer(rec.get("video_id", -1), source, f"{where}.video_id", minimum=-1))
        frame_indices.append(checks.integer(rec.get("frame_index", -1), source, f"{where}.frame_index", minimum=-1))
    images = Images(
        ids=np.array(ids, dtype=np.int64), width=np.array(widths, dtype=np.int64),
        height=np.array(heights, dtype=np.int64), file_names=tuple(names),
        inclusion_prob=np.array(probs, dtype=np.float64), index=index,
        video_id=np.array(videos, dtype=np.int64), frame_index=np.array(frame_indices, dtype=np.int64),
    )
    return images, tags


def _inclusion_prob(rec: Any, source: str, where: str) -> float:
    value = rec.get("inclusion_prob", 1.0)
    return checks.number(value, source, f"{where}.inclusion_prob", above=0.0, maximum=1.0)


def parse_frame_labels(
    value: Any, source: str, images: Images
) -> tuple[list[Tags], list[float], list[str | None]]:
    """The ``images`` section of a results object: per-frame tags, confidence, model version."""
    items = checks.as_list(value, source, "images")
    tags: list[Tags] = [{} for _ in range(len(images))]
    confidence = [float("nan")] * len(images)
    versions: list[str | None] = [None] * len(images)
    for i, item in enumerate(items):
        where = f"images[{i}]"
        rec = checks.as_record(item, source, where)
        iid = checks.integer(checks.field(rec, "id", source, where), source, f"{where}.id")
        frame = images.index.get(iid)
        if frame is None:
            raise InvalidInput(source, f"{where}.id", f"image {iid} is not in the manual annotations")
        tags[frame] = checks.tags(rec.get("tags", {}), source, f"{where}.tags")
        if "confidence" in rec:
            confidence[frame] = checks.number(
                rec["confidence"], source, f"{where}.confidence", minimum=0.0, maximum=1.0
            )
        if "model_version" in rec:
            versions[frame] = checks.text(rec["model_version"], source, f"{where}.model_version")
    return tags, confidence, versions
