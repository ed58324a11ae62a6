"""Agreement statistics and the recommender's recommendations, for readers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.api.deps import ApiDep, Reader

router = APIRouter(prefix="/v1", tags=["stats"])


@router.get("/stats")
def stats(who: Reader, api: ApiDep) -> list[dict[str, Any]]:
    """The latest agreement statistics of every stratum."""
    return api.evidence.stats()


@router.get("/recommendations")
def recommendations(who: Reader, api: ApiDep,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> list[dict[str, Any]]:
    return api.evidence.recommendations(limit)
