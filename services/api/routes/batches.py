"""Batches for external annotation tools (admin): export leased tasks, import their annotations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.api import batches
from services.api.deps import Admin, ApiDep
from services.api.formats import Format, Others, Rotated
from services.api.schemas import ExportBatch, ImportResult
from services.api.tokens import NAME_PATTERN

router = APIRouter(prefix="/v1/admin/batches", tags=["admin"])
BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
    "application/xml": {"schema": {"type": "string"}}}}}


@router.post("/export", response_class=Response,
             responses={200: {"content": {"application/json": {}, "application/xml": {}}}})
def export_batch(body: ExportBatch, who: Admin, request: Request, api: ApiDep) -> Response:
    """Lease up to ``size`` tasks to ``assignee`` and return them in the external tool's format."""
    leases = api.queue.claim_batch(body.assignee, body.size, body.lease_hours * 3600.0)
    content, media = batches.export_batch(leases, body.format,
                                          lambda tid: request.url_for("task_image", task_id=tid))
    return Response(content, media_type=media)


@router.post("/import", openapi_extra=BODY)
async def import_batch(
    request: Request, who: Admin, api: ApiDep,
    format: Annotated[Format, Query()],
    assignee: Annotated[str, Query(pattern=NAME_PATTERN)],
    rotated: Annotated[Rotated, Query(description="a rotated box: its enclosing box (enclose) or the task "
                                                  "rejected (refuse)")] = "enclose",
    other_shapes: Annotated[Others, Query(description="a shape other than a box: the task rejected (reject) or "
                                                      "the shape left out and listed (ignore)")] = "reject",
) -> ImportResult:
    """Submit the annotations of an exported batch, as ``assignee`` (who holds the leases); tasks that cannot
    be imported are listed in ``rejected`` with the reason, the others are submitted."""
    raw = await request.body()  # read whole already, within the body limit
    return await run_in_threadpool(batches.import_batch, api.queue, raw, format, assignee,
                                   batches.ImportOptions(rotated, other_shapes), api.config.metrics_names)
