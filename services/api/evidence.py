"""What the rollout-gate and stats endpoints read: comparisons, stats snapshots and recommendations from the database.

The gate decides exactly as ``shadowqa gate`` does (tests compare the two on the
same comparisons): machine comparisons in arrival order (row id), the same
:class:`analysis.gate.Gate`, the same JSON document.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select

from analysis.gate import Gate
from analysis.observations import Observation, Observations
from services.api.exceptions import GateQueryError
from services.db.engine import session_factory
from services.db.mappers import recommendation_message, stats_message
from services.db.models import ComparisonRow, RecommendationRow, StatsRow
from services.loop.config import DEFAULT_MAX_WEIGHT
from services.reporting.gate_json import gate_document

POOLED = "*"  # the path's stratum that pools every stratum


@dataclass(frozen=True)
class GateQuery:
    stratum: str  # a stratum key, or POOLED
    target: float
    alpha: float = 0.05
    max_weight: float = DEFAULT_MAX_WEIGHT
    model_version: str | None = None
    every_stratum: bool = False


class Evidence:
    def __init__(self, engine: Engine) -> None:
        self._sessions = session_factory(engine)

    def observations(self) -> Observations:
        """Every machine comparison, in the order it was stored."""
        with self._sessions() as session:
            rows = session.execute(select(
                ComparisonRow.frame_id, ComparisonRow.accepted, ComparisonRow.inclusion_prob, ComparisonRow.stratum,
                ComparisonRow.confidence, ComparisonRow.model_version, ComparisonRow.time,
            ).where(ComparisonRow.kind == "machine").order_by(ComparisonRow.id)).all()
        return Observations.of([
            Observation(frame_id=r.frame_id, accepted=r.accepted, inclusion_prob=r.inclusion_prob, stratum=r.stratum,
                        confidence=math.nan if r.confidence is None else r.confidence,
                        model_version=r.model_version, time=r.time)
            for r in rows
        ])

    def gate(self, query: GateQuery) -> dict[str, Any]:
        """The gate's evidence bundle, as ``shadowqa gate --json`` prints it."""
        everything = self.observations()
        stratum = None if query.stratum == POOLED else query.stratum
        if query.every_stratum and stratum is not None:
            raise GateQueryError("every_stratum", f"pools the strata: ask /v1/gates/{POOLED}?every_stratum=true")
        observations = everything
        if query.model_version is not None:
            observations = everything.select(np.array([m == query.model_version for m in everything.model_version],
                                                      dtype=bool))
        gated = observations if stratum is None else observations.in_stratum(stratum)
        if len(gated) and float(gated.weight.max()) > query.max_weight * (1.0 + 1e-12):
            smallest = float(gated.inclusion_prob.min())
            raise GateQueryError("max_weight", f"{query.max_weight:g} is below the largest weight 1/π = "
                                               f"{1.0 / smallest:g} of the gated comparisons; pass max_weight >= "
                                               "1/(the smallest inclusion probability the router uses)")
        gate = Gate(query.target, query.alpha, max_weight=query.max_weight, every_stratum=query.every_stratum)
        return gate_document(gate.evaluate(observations, stratum), query.model_version)

    def stats(self) -> list[dict[str, Any]]:
        """The latest statistics snapshot of every stratum."""
        with self._sessions() as session:
            latest = select(StatsRow.stratum, func.max(StatsRow.id).label("id")).group_by(StatsRow.stratum).subquery()
            rows = session.scalars(select(StatsRow).join(latest, StatsRow.id == latest.c.id)
                                   .order_by(StatsRow.stratum)).all()
            return [stats_message(r).model_dump(mode="json", by_alias=True) for r in rows]

    def recommendations(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` recommendations, newest first, each with its id."""
        with self._sessions() as session:
            rows = session.scalars(select(RecommendationRow).order_by(RecommendationRow.id.desc()).limit(limit)).all()
            return [{"id": r.id, **recommendation_message(r).model_dump(mode="json", by_alias=True)} for r in rows]

    def recommendation(self, rec_id: int) -> RecommendationRow | None:
        with self._sessions() as session:
            return session.get(RecommendationRow, rec_id)
