"""API tokens: created by an admin (or the CLI), stored as SHA-256 only, presented as ``Authorization: Bearer``.

Roles: ``annotator`` (claims and submits tasks; sees nothing of the machine's
output), ``reader`` (gates, stats, recommendations: what rollout controllers
and dashboards read), ``admin`` (everything: tokens, policies, task batches).
A bootstrap admin token may also come from ``SHADOWQA_ADMIN_TOKEN``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from services.db.engine import session_factory
from services.db.models import ApiTokenRow
from services.exceptions import ShadowQAError

BOOTSTRAP = "admin (SHADOWQA_ADMIN_TOKEN)"


class Role(StrEnum):
    ANNOTATOR = "annotator"
    READER = "reader"
    ADMIN = "admin"


class TokenError(ShadowQAError):
    """A token that cannot be created or revoked as asked (name taken, unknown name)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name (an annotator's name is their identity in the queue) and role."""

    name: str
    role: Role


@dataclass(frozen=True)
class TokenInfo:
    name: str
    role: Role
    created_by: str
    created_at: float
    revoked: bool


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    def __init__(self, engine: Engine, admin_token: str | None = None) -> None:
        self._sessions = session_factory(engine)
        self._admin = digest(admin_token) if admin_token else None

    def create(self, name: str, role: Role, created_by: str) -> str:
        """A new random token for ``name`` (returned once; only its digest is stored)."""
        token = "sqa_" + secrets.token_urlsafe(32)
        try:
            with self._sessions() as session, session.begin():
                session.add(ApiTokenRow(name=name, role=role.value, token_sha256=digest(token),
                                        created_by=created_by, created_at=time.time(), revoked_at=None))
        except IntegrityError:
            raise TokenError(f"a token named {name!r} exists already (names are identities: revoke it or pick "
                             "another name)") from None
        return token

    def revoke(self, name: str) -> None:
        with self._sessions() as session, session.begin():
            row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.name == name))
            if row is None:
                raise TokenError(f"no token named {name!r}")
            if row.revoked_at is None:
                row.revoked_at = time.time()

    def list(self) -> list[TokenInfo]:
        with self._sessions() as session:
            rows = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)).all()
            return [TokenInfo(r.name, Role(r.role), r.created_by, r.created_at, r.revoked_at is not None)
                    for r in rows]

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked token; None otherwise."""
        hashed = digest(token)
        if self._admin is not None and hmac.compare_digest(hashed, self._admin):
            return Principal(BOOTSTRAP, Role.ADMIN)
        with self._sessions() as session:
            row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == hashed))
            if row is None or row.revoked_at is not None:
                return None
            return Principal(row.name, Role(row.role))
