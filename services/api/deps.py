"""The routes' shared dependencies: the API's parts (``ApiDep``) and who calls (``Annotator``, ``Reader``,
``Admin``: a bearer token of one of these roles, else 401/403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.state import Api
from services.api.tokens import Principal, Role

bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def get_api(request: Request) -> Api:
    """Async: answered on the event loop, so /readyz does not wait for a thread of the busy request pool."""
    api: Api = request.app.state.api
    return api


ApiDep = Annotated[Api, Depends(get_api)]


def principal(api: ApiDep, credentials: Credentials) -> Principal:
    who = api.tokens.authenticate(credentials.credentials) if credentials is not None else None
    if who is None:
        raise HTTPException(401, "missing or invalid API token (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    return who


def role(*allowed: Role) -> Callable[[Principal], Principal]:
    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in allowed:
            raise HTTPException(403, f"a {who.role} token may not do this")
        return who
    return check


Annotator = Annotated[Principal, Depends(role(Role.ANNOTATOR))]
Reader = Annotated[Principal, Depends(role(Role.READER, Role.ADMIN))]
Admin = Annotated[Principal, Depends(role(Role.ADMIN))]
