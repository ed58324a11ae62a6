"""Policies (admin): apply a recommendation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from services.api.deps import Admin, ApiDep
from services.api.exceptions import NotPublished
from services.api.policies import apply_recommendation
from services.api.schemas import ApplyPolicy, PolicyOut

router = APIRouter(prefix="/v1/policies", tags=["admin"])


@router.post("", status_code=201,
             responses={404: {"description": "no such recommendation"},
                        503: {"description": "Kafka did not take the policy; nothing was applied"}})
def apply_policy(body: ApplyPolicy, who: Admin, api: ApiDep) -> PolicyOut:
    """Apply a recommendation as the next policy version, recorded with who applied it, and publish it."""
    if api.sink is None:
        raise HTTPException(503, "this API runs without Kafka: policies cannot be published")
    rec = api.evidence.recommendation(body.recommendation_id)
    if rec is None:
        raise HTTPException(404, f"no recommendation {body.recommendation_id}")
    try:
        message = apply_recommendation(engine=api.engine, sink=api.sink, topic=api.names.policies,
                                       lock=api.policy_lock, rec=rec, applied_by=who.name, reason=body.reason)
    except NotPublished as exc:
        raise HTTPException(503, str(exc)) from None
    return PolicyOut(version=message.version, default=None, thresholds=message.thresholds,
                     applied_by=who.name, reason=body.reason, time=message.time)
