"""The policy in force (readers) and people's pins over it (admin); the aggregator applies pins and numbers."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import AfterValidator

from analysis.policy.pins import DEFAULT, Pin, Release
from services.api import pins
from services.api.deps import Admin, ApiDep, Reader
from services.api.exceptions import NotPinned, NotPublished, PinConflict
from services.api.schemas import NewPin, PinOut, PolicyInForce, PolicyOut, Released
from services.api.state import Api
from services.loop.messages.fields import valid_text
from services.tools.kafka import Sink

router = APIRouter(prefix="/v1/policy", tags=["policy"])
Stratum = Annotated[str, Path(min_length=1, max_length=255, description=f"a stratum key, or {DEFAULT} for the "
                                                                         "default"), AfterValidator(valid_text)]
KAFKA: dict[int | str, dict[str, Any]] = {
    503: {"description": "Kafka did not take the record (or the API runs without it); nothing changed"}}


@router.get("")
def policy(who: Reader, api: ApiDep) -> PolicyInForce:
    """The policy in force (the aggregator's latest; null before its first) and the pins it applies."""
    row = pins.in_force(api.engine)
    current = None if row is None else PolicyOut(
        version=row.version, default=row.default_threshold, thresholds=row.thresholds, applied_by=row.applied_by,
        reason=row.reason, time=row.time)
    return PolicyInForce(policy=current, pins=[pin_out(p) for p in pins.pins(api.engine)])


@router.post("", status_code=202, tags=["admin"],
             responses={**KAFKA, 409: {"description": "a concurrent first pin of the stratum won; pin again"}})
def pin(body: NewPin, who: Admin, api: ApiDep) -> PinOut:
    """Pin a stratum's threshold until released; the aggregator puts it in force (202: it does so next)."""
    event = Pin(body.stratum, float("inf") if body.threshold is None else body.threshold, who.name, body.reason,
                time.time())
    try:
        pins.pin(engine=api.engine, sink=_sink(api), topic=api.names.policy_pins, event=event)
    except PinConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except NotPublished as exc:
        raise HTTPException(503, str(exc)) from None
    return pin_out(event)


@router.delete("/pins/{stratum}", status_code=202, tags=["admin"],
               responses={**KAFKA, 404: {"description": "the stratum is not pinned"}})
def release(stratum: Stratum, who: Admin, api: ApiDep) -> Released:
    """Release a pin: the stratum follows the recommender again (202: the aggregator does so next)."""
    event = Release(stratum, who.name, time=time.time())
    try:
        released = pins.release(engine=api.engine, sink=_sink(api), topic=api.names.policy_pins, event=event)
    except NotPinned as exc:
        raise HTTPException(404, str(exc)) from None
    except NotPublished as exc:
        raise HTTPException(503, str(exc)) from None
    return Released(stratum=stratum, released_by=who.name, time=event.time, pin=pin_out(released))


def pin_out(p: Pin) -> PinOut:
    return PinOut.model_validate(p.record())


def _sink(api: Api) -> Sink:
    if api.sink is None:
        raise HTTPException(503, "this API runs without Kafka: pins cannot be published")
    return api.sink
