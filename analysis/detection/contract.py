"""Input checks and error wrapping shared by the detection metrics.

Both metrics read an automation side that must be expressed in the manual
side's frames and categories (as ``parse_automation`` builds it); a mismatch
would silently pair objects of different frames, so it is refused up front.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from analysis.annotations.model import Annotations
from analysis.exceptions import AnalysisFailed, InvalidInput, ShadowQAError


def checked_thresholds(values: Iterable[float]) -> tuple[float, ...]:
    """IoU thresholds as floats, each in (0, 1]; at least one."""
    thresholds = tuple(float(v) for v in values)
    if not thresholds:
        raise InvalidInput("options", "iou_thresholds", "at least one IoU threshold is needed")
    for i, t in enumerate(thresholds):
        if not 0.0 < t <= 1.0:
            raise InvalidInput("options", f"iou_thresholds[{i}]", f"must be in (0, 1], got {t}")
    return thresholds


def checked_area_range(area_range: tuple[float, float], where: str = "area_range") -> tuple[float, float]:
    """An inclusive ``(low, high)`` area range in px² with ``0 <= low <= high``."""
    lo, hi = float(area_range[0]), float(area_range[1])
    if not 0.0 <= lo <= hi:
        raise InvalidInput("options", where, f"expected 0 <= low <= high, got ({lo}, {hi})")
    return lo, hi


def checked_max_dets(max_dets: int) -> int:
    if max_dets < 1:
        raise InvalidInput("options", "max_dets", f"must be >= 1, got {max_dets}")
    return max_dets


def check_same_frames(automation: Annotations, manual: Annotations) -> None:
    """The automation side uses the manual side's frames and categories, index for index."""
    if automation.images is not manual.images and not np.array_equal(automation.images.ids, manual.images.ids):
        raise InvalidInput(automation.source, "images", "frames differ from the manual annotations' frames")
    same_categories = automation.categories is manual.categories or np.array_equal(
        automation.categories.ids, manual.categories.ids
    )
    if not same_categories:
        raise InvalidInput(automation.source, "categories", "categories differ from the manual annotations' ones")


@contextmanager
def reported_as(what: str) -> Iterator[None]:
    """Let deliberate errors through; wrap unexpected ones in :class:`AnalysisFailed` naming ``what``."""
    try:
        yield
    except ShadowQAError:
        raise
    except Exception as exc:
        raise AnalysisFailed(f"{what}: {exc!r}") from exc
