"""Observations: compared frames as the gate and the recommender consume them.

One observation says whether the machine's annotation of a frame would have
passed QA (``accepted``), how the frame came to be compared (``inclusion_prob``,
the router's π), and what the router knew (stratum, confidence, model version).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.annotations.model_types import BoolArray, FloatArray
from analysis.policy.automation import ALL


@dataclass(frozen=True)
class Observation:
    frame_id: str
    accepted: bool
    inclusion_prob: float = 1.0
    stratum: str = ALL
    confidence: float = math.nan
    model_version: str = ""
    time: float = math.nan

    @property
    def weight(self) -> float:
        return 1.0 / self.inclusion_prob


@dataclass(frozen=True, eq=False)
class Observations:
    """Observations column-wise, in arrival order."""

    frame_id: tuple[str, ...]
    accepted: BoolArray
    inclusion_prob: FloatArray
    stratum: tuple[str, ...]
    confidence: FloatArray
    model_version: tuple[str, ...]
    time: FloatArray

    @classmethod
    def of(cls, records: Sequence[Observation]) -> Observations:
        return cls(
            frame_id=tuple(r.frame_id for r in records),
            accepted=np.array([r.accepted for r in records], dtype=bool),
            inclusion_prob=np.array([r.inclusion_prob for r in records], dtype=np.float64),
            stratum=tuple(r.stratum for r in records),
            confidence=np.array([r.confidence for r in records], dtype=np.float64),
            model_version=tuple(r.model_version for r in records),
            time=np.array([r.time for r in records], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.frame_id)

    @property
    def weight(self) -> FloatArray:
        return 1.0 / self.inclusion_prob

    def select(self, mask: BoolArray) -> Observations:
        idx = np.flatnonzero(mask).tolist()
        return Observations(
            frame_id=tuple(self.frame_id[i] for i in idx), accepted=self.accepted[mask],
            inclusion_prob=self.inclusion_prob[mask], stratum=tuple(self.stratum[i] for i in idx),
            confidence=self.confidence[mask], model_version=tuple(self.model_version[i] for i in idx),
            time=self.time[mask],
        )

    def in_stratum(self, stratum: str) -> Observations:
        return self.select(np.array([s == stratum for s in self.stratum], dtype=bool))
