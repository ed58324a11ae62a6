"""What the comparator needs to know about a stream's data: its label set and QA spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.agreement import QualitySpec
from analysis.exceptions import InvalidInput
from services.datasets.driving.coco import categories as driving_categories
from services.datasets.driving.qa_spec import REFERENCE_SPEC

DIGITS_SPEC = QualitySpec.from_mapping({"tags": ["digit"]}, "digits spec")


@dataclass(frozen=True)
class CompareContext:
    """Categories (COCO records) and the quality spec frames are judged by."""

    categories: tuple[dict[str, Any], ...]
    spec: QualitySpec

    @classmethod
    def for_dataset(cls, name: str) -> CompareContext:
        if name == "driving":
            return cls(tuple(driving_categories()), REFERENCE_SPEC)
        if name == "digits":
            return cls((), DIGITS_SPEC)
        raise InvalidInput("pipeline", "dataset", f"unknown dataset {name!r} (known: driving, digits)")
