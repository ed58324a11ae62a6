"""Categorical labels (object attributes, image tags) stored column-wise, so pairs of
labellers compare without Python loops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.annotations.model_types import BoolArray, IntArray

_MISSING = object()


@dataclass(frozen=True, eq=False)
class LabelTable:
    """``present[i, a]``: item ``i`` carries label ``names[a]``; ``codes`` hold a hash of
    the value, equal exactly when values compare equal; ``values`` maps codes back."""

    names: tuple[str, ...]
    present: BoolArray
    codes: IntArray
    values: Mapping[int, Any]

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any] | None]) -> LabelTable:
        names = tuple(dict.fromkeys(k for r in records if r for k in r))
        n = len(records)
        present = np.zeros((n, len(names)), dtype=bool)
        codes = np.zeros((n, len(names)), dtype=np.int64)
        values: dict[int, Any] = {}
        for a, name in enumerate(names):
            column = [r.get(name, _MISSING) if r else _MISSING for r in records]
            present[:, a] = np.fromiter((v is not _MISSING for v in column), dtype=bool, count=n)
            codes[:, a] = np.fromiter(map(hash, column), dtype=np.int64, count=n)
            values.update((hash(v), v) for v in set(column) if v is not _MISSING)
        return cls(names, present, codes, values)

    def take(self, index: IntArray) -> LabelTable:
        return LabelTable(self.names, self.present[index], self.codes[index], self.values)

    def column(self, name: str) -> tuple[BoolArray, IntArray] | None:
        if name not in self.names:
            return None
        a = self.names.index(name)
        return self.present[:, a], self.codes[:, a]

    def labels(self, name: str) -> list[Any]:
        """The value of ``name`` for every item, ``None`` where it is absent."""
        column = self.column(name)
        if column is None:
            return [None] * len(self.present)
        present, codes = column
        return [self.values[c] if p else None for p, c in zip(present.tolist(), codes.tolist(), strict=True)]

    def row(self, i: int) -> dict[str, Any] | None:
        if not self.present[i].any():
            return None
        return {n: self.values[int(c)] for n, p, c in zip(self.names, self.present[i], self.codes[i], strict=True) if p}
