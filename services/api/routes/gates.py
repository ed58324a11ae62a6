"""Rollout gates: may a model run at an automation rate? Pass, fail or inconclusive, with the evidence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from services.api.deps import ApiDep, Credentials, Reader
from services.api.errors import invalid
from services.api.evidence import POOLED, GateQuery
from services.api.exceptions import GateQueryError
from services.api.schemas import FlaggerHook
from services.api.state import Api
from services.api.tokens import Principal, Role
from services.loop.config import DEFAULT_MAX_WEIGHT
from services.loop.messages.fields import valid_text

router = APIRouter(prefix="/v1/gates", tags=["gates"])
Stratum = Annotated[str, Path(min_length=1, max_length=255, description=f"a stratum key (weather=rain), or "
                                                                         f"{POOLED} for all frames"),
                    AfterValidator(valid_text)]


def gate_answer(api: Api, query: GateQuery, where: list[str | int] | None = None) -> dict[str, Any]:
    """The gate's document for ``query``; a query the evidence cannot answer is a 422 at ``where`` + its field."""
    try:
        return api.evidence.gate(query)
    except GateQueryError as exc:
        raise invalid([*(where or ["query"]), exc.field], exc.detail) from None


@router.get("/{stratum}")
def gate(
    stratum: Stratum,
    who: Reader,
    api: ApiDep,
    target: Annotated[float, Query(gt=0, lt=1, description="acceptance rate to prove")],
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
    max_weight: Annotated[float | None, Query(ge=1, le=1e9, description="largest weight 1/π (default: the server's "
                                              f"--max-weight, {DEFAULT_MAX_WEIGHT:g} = 1/the default audit floor "
                                              "unless set)")] = None,
    model_version: Annotated[str | None, Query(min_length=1, max_length=255), AfterValidator(valid_text)] = None,
    every_stratum: bool = False,
) -> dict[str, Any]:
    """The gate's decision (pass, fail, inconclusive) and its evidence; Argo Rollouts reads ``$.decision``."""
    weight = api.config.max_weight if max_weight is None else max_weight
    return gate_answer(api, GateQuery(stratum, target, alpha, weight, model_version, every_stratum))


@router.post("/{stratum}/flagger",
             responses={412: {"description": "the gate did not pass (fail or inconclusive); body: the evidence"}})
def flagger(stratum: Stratum, hook: FlaggerHook, credentials: Credentials, api: ApiDep) -> JSONResponse:
    """Flagger webhook: 200 when the gate passes, 412 otherwise (Flagger halts on any non-2xx).

    Flagger's webhooks cannot send headers, so a reader token may come as ``metadata.token`` instead.
    """
    meta = hook.metadata
    _reader(api, credentials.credentials if credentials is not None else meta.get("token"))
    target, alpha = _metadata_number(meta, "target", "nan"), _metadata_number(meta, "alpha", "0.05")
    max_weight = _metadata_number(meta, "max_weight", "nan") if "max_weight" in meta else None
    for key, value, ok in (("target", target, 0 < target < 1), ("alpha", alpha, 0 < alpha < 1),
                           ("max_weight", max_weight, max_weight is None or 1 <= max_weight <= 1e9)):
        if not ok:
            raise invalid(["body", "metadata", key], "target and alpha must be in (0, 1) (target is required), "
                          f"max_weight in [1, 1e9]; got {key} = {value}")
    query = GateQuery(stratum, target, alpha, api.config.max_weight if max_weight is None else max_weight,
                      meta.get("model_version"), meta.get("every_stratum", "false").lower() == "true")
    document = gate_answer(api, query, where=["body", "metadata"])
    return JSONResponse(document, status_code=200 if document["decision"] == "pass" else 412)


def _reader(api: Api, token: str | None) -> Principal:
    who = api.tokens.authenticate(token) if token else None
    if who is None:
        raise HTTPException(401, "missing or invalid API token (header, or metadata.token for Flagger)",
                            headers={"WWW-Authenticate": "Bearer"})
    if who.role not in (Role.READER, Role.ADMIN):
        raise HTTPException(403, f"a {who.role} token may not do this")
    return who


def _metadata_number(meta: dict[str, str], key: str, default: str) -> float:
    try:
        return float(meta.get(key, default))
    except ValueError:
        raise invalid(["body", "metadata", key], f"expected a number, got {meta[key]!r}") from None
