"""Liveness, readiness and Prometheus metrics: no token."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from services.api.deps import ApiDep
from services.api.health import database_problem

router = APIRouter(tags=["ops"])
READY_PROBE = anyio.CapacityLimiter(2)  # readiness has its own threads: busy request threads do not delay it


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness only: answered on the event loop, whatever the database does."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "the database cannot take a write now"}})
async def readyz(api: ApiDep) -> JSONResponse:
    problem = await anyio.to_thread.run_sync(database_problem, api.engine, min(1.0, api.config.wait_s),
                                             limiter=READY_PROBE)
    if problem is not None:
        return JSONResponse({"status": "database unavailable", "error": problem}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", response_class=Response)
def prometheus(api: ApiDep) -> Response:
    return Response(generate_latest(REGISTRY) + generate_latest(api.registry), media_type=CONTENT_TYPE_LATEST)
