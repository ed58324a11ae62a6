"""Agreement of categorical labels: object attributes on matched pairs, image tags per frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.annotations.attributes import AttributeTable
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
    mine, theirs = manual.objects.attributes, automation.objects.attributes
    for name in mine.names if mine is not None else ():
        g_has, g_code = _column(mine, name, len(manual.objects))
        d_has, d_code = _column(theirs, name, len(automation.objects))
        has = g_has[matches.gt]
        same = has & d_has[matches.dt] & (g_code[matches.gt] == d_code[matches.dt])
        compared += has
        agreed += same
        if name in required:
            differ += has & ~same
    return PairLabels(compared, agreed, differ)


def _column(table: AttributeTable | None, name: str, n: int) -> tuple[BoolArray, IntArray]:
    column = table.column(name) if table is not None else None
    return column if column is not None else (np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64))


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
