"""Agreement of categorical labels: object attributes on matched pairs, image tags per frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.annotations.model import Annotations, BoolArray, IntArray, Tags
from analysis.matching import Matches


@dataclass(frozen=True, eq=False)
class PairLabels:
    """Per matched pair: attributes compared, agreeing, and required ones that differ."""

    compared: IntArray
    agreed: IntArray
    required_differ: IntArray

    def per_frame(self, frame: IntArray, n_frames: int) -> LabelAgreement:
        def count(v: IntArray) -> IntArray:
            return np.bincount(frame, weights=v, minlength=n_frames).astype(np.int64)

        return LabelAgreement(count(self.compared), count(self.agreed), count(self.required_differ))


@dataclass(frozen=True, eq=False)
class LabelAgreement:
    """Per-frame counts of compared labels, agreeing labels, and required ones that differ."""

    compared: IntArray
    agreed: IntArray
    required_differ: IntArray


def attribute_agreement(
    automation: Annotations, manual: Annotations, matches: Matches, required: Sequence[str]
) -> PairLabels:
    """Over matched pairs, each attribute the manual object carries is compared."""
    n = len(matches.gt)
    compared, agreed, differ = (np.zeros(n, dtype=np.int64) for _ in range(3))
    gt_attrs, dt_attrs = manual.objects.attributes, automation.objects.attributes
    if gt_attrs is None:
        return PairLabels(compared, agreed, differ)
    for k, (i, j) in enumerate(zip(matches.dt.tolist(), matches.gt.tolist(), strict=True)):
        mine = gt_attrs[j] or {}
        theirs = (dt_attrs[i] if dt_attrs is not None else None) or {}
        for key, value in mine.items():
            same = key in theirs and theirs[key] == value
            compared[k] += 1
            agreed[k] += same
            differ[k] += (not same) and key in required
    return PairLabels(compared, agreed, differ)


def tag_agreement(automation: Annotations, manual: Annotations, required: Sequence[str]) -> LabelAgreement:
    """Per frame, each tag the manual side gives is compared with the machine's."""
    n = len(manual.images)
    compared, agreed, differ = (np.zeros(n, dtype=np.int64) for _ in range(3))
    for f, (mine, theirs) in enumerate(zip(manual.tags, automation.tags, strict=True)):
        for key, value in mine.items():
            same = theirs.get(key) == value
            compared[f] += 1
            agreed[f] += same
            differ[f] += (not same) and key in required
    return LabelAgreement(compared, agreed, differ)


def tag_pairs(automation: Sequence[Tags], manual: Sequence[Tags], key: str) -> tuple[list[str], list[str], BoolArray]:
    """Machine and manual values of one tag on frames where both give it, and which frames."""
    both = np.array([key in a and key in m for a, m in zip(automation, manual, strict=True)], dtype=bool)
    idx = np.flatnonzero(both).tolist()
    return [automation[i][key] for i in idx], [manual[i][key] for i in idx], both
