"""The replay's annotation documents read into the analysis model, whatever geometry their objects carry.

Documents are COCO-shaped (``images``, ``annotations``, ``categories``): the people's and the
ground truth's, and the machine's (with ``score`` per object and ``confidence`` and
``model_version`` per image). An object record carries a COCO ``bbox`` (a ``box2d``, as version 1
messages do) or a tagged ``geometry``; the two sides of a comparison are read as one geometry
kind, through the same column path the streaming comparator takes
(:mod:`analysis.annotations.columns`), so a replay judges a frame as the loop does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.agreement import QualitySpec
from analysis.annotations import Annotations
from analysis.annotations.coco_frames import parse_categories
from analysis.annotations.columns import FrameColumns, annotations_of, shared_kind
from analysis.annotations.model import Categories, Images
from analysis.compare import Comparator, CompareOptions, Comparison
from analysis.geometry import read_geometry
from analysis.matching import MatchOptions

Doc = dict[str, Any]


@dataclass(frozen=True, eq=False)
class AnnotationPair:
    """Two sides of the same frames, read as one geometry kind."""

    automation: Annotations
    manual: Annotations
    kind: str

    def compare(self, spec: QualitySpec) -> Comparison:
        options = CompareOptions(matching=MatchOptions(geometry=self.kind), spec=spec)
        return Comparator(options).calculate(self.automation, self.manual)


def annotation_pair(automation_doc: Doc, manual_doc: Doc, *, geometry: str = "box2d",
                    scored: bool = False) -> AnnotationPair:
    """``automation_doc`` against ``manual_doc`` on the frames of ``manual_doc`` (with their inclusion
    probabilities); ``geometry``: the kind when neither side has an object; ``scored``: the automation side
    is a person, sure of every object (score 1, as :func:`services.loop.compare.compare_people` has it)."""
    categories = parse_categories(manual_doc["categories"], "categories")
    images = _images(manual_doc["images"])
    ids = images.ids.tolist()
    manual, automation = _columns(manual_doc, ids, scored=False), _columns(automation_doc, ids, scored=scored)
    kind = shared_kind((automation, manual), geometry)
    return AnnotationPair(_annotations(automation, images, categories, kind, "automation"),
                          _annotations(manual, images, categories, kind, "manual"), kind)


def _images(records: Sequence[Doc]) -> Images:
    ids = np.array([int(r["id"]) for r in records], dtype=np.int64)
    size = [(int(r.get("width", 0)), int(r.get("height", 0))) for r in records]
    return Images(ids=ids, width=np.array([w for w, _ in size], dtype=np.int64).reshape(len(ids)),
                  height=np.array([h for _, h in size], dtype=np.int64).reshape(len(ids)),
                  file_names=tuple(str(r.get("file_name", "")) for r in records),
                  inclusion_prob=np.array([float(r.get("inclusion_prob", 1.0)) for r in records]).reshape(len(ids)),
                  index={int(i): k for k, i in enumerate(ids.tolist())})


def _columns(doc: Doc, ids: list[int], *, scored: bool) -> FrameColumns:
    by_image: dict[int, list[Doc]] = defaultdict(list)
    for a in doc.get("annotations", []):
        by_image[int(a["image_id"])].append(a)
    frames = {int(r["id"]): r for r in doc.get("images", [])}
    records = [a for i in ids for a in by_image.get(i, [])]
    shapes = [("box2d", tuple(a["bbox"])) if "bbox" in a else read_geometry(a["geometry"], "annotations", "geometry")
              for a in records]
    given = all("score" in a for a in records) and any("score" in a for a in records)
    scores = [float(a["score"]) for a in records] if given else [1.0] * len(records) if scored else None
    images = [frames.get(i, {}) for i in ids]
    return FrameColumns(
        counts=[len(by_image.get(i, [])) for i in ids], kinds=[k for k, _ in shapes], values=[v for _, v in shapes],
        category_ids=[int(a["category_id"]) for a in records], tags=[dict(r.get("tags", {})) for r in images],
        scores=scores, attributes=[dict(a["attributes"]) if a.get("attributes") else None for a in records],
        confidence=[_number(r.get("confidence")) for r in images],
        model_version=[r.get("model_version") for r in images],
    )


def _annotations(side: FrameColumns, images: Images, categories: Categories, kind: str, source: str) -> Annotations:
    return annotations_of(side, images, categories, kind=kind, source=source)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
