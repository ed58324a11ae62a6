"""The recommender's windowing as a pure fold (``initialize / add / result``, like quix-streams' aggregators).

Comparisons are added one by one in topic order. Every ``window`` machine
comparisons (``LoopConfig.window``: the one meaning of the word) the
recommender steps over the window's machine and consensus comparisons; the
first step places the threshold grid at the confidences of that window's
machine frames. Bets are sized for the largest weight 1/π a frame could carry
under the policy version it was routed by: 1 under version 0; for a published
version, the bound its owner recorded in ``bounds`` (``Aggregation`` records
each policy it puts in force: 1 if it ships nothing, 1/floor otherwise);
1/floor for any version not recorded. The state is plain data
(``to_dict`` / ``from_dict``) so a checkpoint can store it; it does not grow
with history, only with the open window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from analysis.recommend import Recommendation, Recommender, RecommenderState
from services.loop.build import build_recommender, recommender_on_grid
from services.loop.config import LoopConfig
from services.loop.messages import ComparisonMessage
from services.loop.plain import from_plain, to_plain
from services.loop.recommend import observation, weight_bounds


@dataclass(frozen=True)
class RecommenderFoldState:
    """The open window, the grid (empty before the first step), the recommender's state, the weight bounds."""

    window: tuple[ComparisonMessage, ...] = ()
    machine_in_window: int = 0
    candidates: tuple[float, ...] = ()
    recommender: RecommenderState | None = None
    bounds: Mapping[int, float] = field(default_factory=dict)  # policy version -> largest 1/π under it

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": [c.model_dump(mode="json", by_alias=True) for c in self.window],
            "machine_in_window": self.machine_in_window, "candidates": list(self.candidates),
            "recommender": None if self.recommender is None else to_plain(self.recommender),
            "bounds": {str(v): b for v, b in self.bounds.items()},
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RecommenderFoldState:
        return cls(
            window=tuple(ComparisonMessage.model_validate(c) for c in doc["window"]),
            machine_in_window=int(doc["machine_in_window"]), candidates=tuple(float(t) for t in doc["candidates"]),
            recommender=None if doc["recommender"] is None else from_plain(RecommenderState, doc["recommender"]),
            bounds={int(v): float(b) for v, b in doc["bounds"].items()},
        )


class RecommenderFold:
    """Windows of machine comparisons → recommender steps, under one ``LoopConfig``."""

    def __init__(self, config: LoopConfig) -> None:
        self.config = config

    def initialize(self) -> RecommenderFoldState:
        return RecommenderFoldState()

    def add(
        self, state: RecommenderFoldState, c: ComparisonMessage
    ) -> tuple[RecommenderFoldState, Recommendation | None]:
        """``state`` with ``c`` counted; the recommendation when ``c`` closes a window."""
        machine = state.machine_in_window + (c.kind == "machine")
        state = replace(state, window=(*state.window, c), machine_in_window=machine)
        if machine < self.config.window:
            return state, None
        return self._step(state)

    def result(self, state: RecommenderFoldState) -> RecommenderState | None:
        """The recommender's state after the last closed window (None before the first)."""
        return state.recommender

    def recommender(self, state: RecommenderFoldState) -> Recommender | None:
        """The recommender on the state's grid (None before the first step placed it)."""
        return _on_grid(self.config, state.candidates) if state.candidates else None

    def _step(self, state: RecommenderFoldState) -> tuple[RecommenderFoldState, Recommendation]:
        window = state.window
        if not state.candidates:
            grid = build_recommender(self.config, [c.confidence for c in window if c.kind == "machine"])
            state = replace(state, candidates=grid.config.candidates, recommender=grid.initial())
        recommender, current = self.recommender(state), state.recommender
        assert recommender is not None and current is not None
        recommendation = None
        for group, bound in weight_bounds(window, state.bounds, self.config.max_weight):
            machine = [observation(c) for c in group if c.kind == "machine"]
            people = [observation(c) for c in group if c.kind == "consensus"]
            current, recommendation = recommender.update(current, machine, people, max_weight=bound)
        assert recommendation is not None
        state = RecommenderFoldState(candidates=state.candidates, recommender=current, bounds=state.bounds)
        return state, recommendation


@lru_cache(maxsize=8)
def _on_grid(config: LoopConfig, candidates: tuple[float, ...]) -> Recommender:
    return recommender_on_grid(config, candidates)
