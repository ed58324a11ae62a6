"""API tokens (admin): create, list, rotate, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response

from services.api.deps import Admin, ApiDep
from services.api.exceptions import TokenConflict, TokenError
from services.api.schemas import NewToken, TokenOut
from services.api.tokens import NAME_PATTERN

router = APIRouter(prefix="/v1/admin/tokens", tags=["admin"])
TokenName = Annotated[str, Path(pattern=NAME_PATTERN)]


@router.post("", status_code=201, responses={409: {"description": "the name has an unrevoked token"}})
def create_token(body: NewToken, who: Admin, api: ApiDep) -> TokenOut:
    try:
        token = api.tokens.create(body.name, body.role, who.name)
    except TokenError as exc:
        raise HTTPException(409, str(exc)) from None
    return TokenOut(name=body.name, role=body.role, token=token, created_by=who.name)


@router.get("")
def list_tokens(who: Admin, api: ApiDep) -> list[TokenOut]:
    return [TokenOut(name=t.name, role=t.role, created_by=t.created_by, created_at=t.created_at,
                     revoked=t.revoked) for t in api.tokens.list()]


@router.post("/{name}/rotate", status_code=201,
             responses={404: {"description": "no unrevoked token of that name"},
                        409: {"description": "a concurrent rotation of the name won; list the tokens"}})
def rotate_token(name: TokenName, who: Admin, api: ApiDep) -> TokenOut:
    """Revoke the name's token and issue a new secret with the same role, at once: the same identity."""
    try:
        token, role = api.tokens.rotate(name, who.name)
    except TokenConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except TokenError as exc:
        raise HTTPException(404, str(exc)) from None
    return TokenOut(name=name, role=role, token=token, created_by=who.name)


@router.delete("/{name}", status_code=204, response_class=Response, responses={404: {"description": "no such token"}})
def revoke_token(name: TokenName, who: Admin, api: ApiDep) -> Response:
    """Revoke the name's token; the name may then be given a new token (the same identity)."""
    try:
        api.tokens.revoke(name)
    except TokenError as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(status_code=204)
