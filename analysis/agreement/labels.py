"""Agreement of categorical labels: object attributes on matched pairs, image tags per frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.annotations.label_table import LabelTable
from analysis.annotations.model import Annotations, BoolArray, IntArray
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
    mine = _Side(manual.objects.attributes, len(manual.objects))
    theirs = _Side(automation.objects.attributes, len(automation.objects))
    return _compare_labels(mine, theirs, matches.gt, matches.dt, required)


def tag_agreement(automation: Annotations, manual: Annotations, required: Sequence[str]) -> LabelAgreement:
    """Per frame, each tag the manual side gives is compared with the machine's."""
    n = len(manual.images)
    frames = np.arange(n)
    pairs = _compare_labels(_Side(manual.tag_table, n), _Side(automation.tag_table, n), frames, frames, required)
    return LabelAgreement(pairs.compared, pairs.agreed, pairs.required_differ)


def tag_codes(automation: Annotations, manual: Annotations, name: str) -> tuple[IntArray, IntArray]:
    """Codes of one tag's machine and manual values, on frames where both give it."""
    n = len(manual.images)
    d_has, d_code = _Side(automation.tag_table, n).column(name)
    g_has, g_code = _Side(manual.tag_table, n).column(name)
    both = d_has & g_has
    return d_code[both], g_code[both]


@dataclass(frozen=True)
class _Side:
    """One labeller's label table over ``n`` items (``None``: no labels at all)."""

    table: LabelTable | None
    n: int

    @property
    def names(self) -> tuple[str, ...]:
        return self.table.names if self.table is not None else ()

    def column(self, name: str) -> tuple[BoolArray, IntArray]:
        column = self.table.column(name) if self.table is not None else None
        if column is None:
            return np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=np.int64)
        return column


def _compare_labels(
    mine: _Side, theirs: _Side, my_idx: IntArray, their_idx: IntArray, required: Sequence[str]
) -> PairLabels:
    """For each pair ``(my_idx[k], their_idx[k])``: labels I give, how many they match,
    and how many required ones differ."""
    n = len(my_idx)
    compared, agreed, differ = (np.zeros(n, dtype=np.int64) for _ in range(3))
    for name in mine.names:
        g_has, g_code = mine.column(name)
        d_has, d_code = theirs.column(name)
        has = g_has[my_idx]
        same = has & d_has[their_idx] & (g_code[my_idx] == d_code[their_idx])
        compared += has
        agreed += same
        if name in required:
            differ += has & ~same
    return PairLabels(compared, agreed, differ)
