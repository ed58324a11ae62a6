"""API tokens: created by an admin (or the CLI), stored as SHA-256 only, presented as ``Authorization: Bearer``.

Roles: ``annotator`` (claims and submits tasks; sees nothing of the machine's
output), ``reader`` (gates, stats, recommendations: what rollout controllers
and dashboards read), ``admin`` (everything: tokens, policies, task batches).
A bootstrap admin token may also come from ``SHADOWQA_ADMIN_TOKEN`` (at least
:data:`ADMIN_TOKEN_MIN` characters).

A token's name is its holder's identity (an annotator's name in the queue, their
skip history and consensus separation), so names follow one rule everywhere
(:data:`Name`, used by the API and the CLI alike) and a leaked token is replaced
without a new identity: revoking frees the name for a new token, and
:meth:`Tokens.rotate` revokes and re-issues in one transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.api.exceptions import TokenConflict, TokenError, WeakAdminToken
from services.db.engine import session_factory
from services.db.models import ApiTokenRow

BOOTSTRAP = "admin (SHADOWQA_ADMIN_TOKEN)"  # the bootstrap token's principal; no token may take this name
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="an identity: 1 to 64 of A-Z a-z 0-9 _ . @ -, "
                                                              "starting with a letter or digit")]
ADMIN_TOKEN_MIN = 32  # characters of SHADOWQA_ADMIN_TOKEN: a guessable bootstrap admin token is refused at start
_NAME = TypeAdapter(Name)


class Role(StrEnum):
    ANNOTATOR = "annotator"
    READER = "reader"
    ADMIN = "admin"


def check_name(name: str) -> str:
    """``name`` if it is a valid identity (:data:`Name`), else :class:`TokenError` saying the rule."""
    try:
        return _NAME.validate_python(name)
    except ValidationError:
        raise TokenError(f"invalid name {name!r}: 1 to 64 of A-Z a-z 0-9 _ . @ -, starting with a letter or "
                         "digit") from None


def check_admin_token(token: str | None) -> str | None:
    """``token`` if it is None or long enough to be the bootstrap admin token, else :class:`WeakAdminToken`."""
    if token is not None and len(token) < ADMIN_TOKEN_MIN:
        raise WeakAdminToken(f"SHADOWQA_ADMIN_TOKEN has {len(token)} characters; it must have at least "
                             f"{ADMIN_TOKEN_MIN} (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return token


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
        token = check_admin_token(admin_token)
        self._admin = digest(token) if token else None

    def create(self, name: str, role: Role, created_by: str) -> str:
        """A new random token for ``name`` (returned once; only its digest is stored). A name may have one
        unrevoked token at a time; a revoked name may be given a new token (the same identity)."""
        check_name(name)
        try:
            with self._sessions() as session, session.begin():
                return _issue(session, name, role, created_by)
        except IntegrityError:
            raise TokenError(f"{name!r} has a token already (names are identities: rotate it, or revoke it "
                             "first)") from None

    def rotate(self, name: str, rotated_by: str) -> tuple[str, Role]:
        """Revoke ``name``'s token and issue a new one with the same role, in one transaction; (token, role)."""
        try:
            with self._sessions() as session, session.begin():
                row = _active(session, name)
                if row is None and _active(session, name) is not None:
                    # the token this rotation waited for was rotated meanwhile; the fresh read sees the winner's
                    raise TokenConflict(f"{name!r} was changed meanwhile; list the tokens and try again")
                if row is None:
                    raise TokenError(f"no unrevoked token named {name!r} (a revoked name takes a new token with "
                                     "create)")
                row.revoked_at = time.time()
                session.flush()  # the name is free for the new row
                return _issue(session, name, Role(row.role), rotated_by), Role(row.role)
        except IntegrityError:  # a concurrent rotation or creation of the same name won
            raise TokenConflict(f"{name!r} was changed meanwhile; list the tokens and try again") from None

    def revoke(self, name: str) -> None:
        """Revoke ``name``'s token (frees the name; revoking a revoked name does nothing)."""
        with self._sessions() as session, session.begin():
            row = _active(session, name)
            if row is not None:
                row.revoked_at = time.time()
            elif session.scalar(select(ApiTokenRow.id).where(ApiTokenRow.name == name).limit(1)) is None:
                raise TokenError(f"no token named {name!r}")

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


def _active(session: Session, name: str) -> ApiTokenRow | None:
    query = select(ApiTokenRow).where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_(None))
    return session.scalar(query.with_for_update())


def _issue(session: Session, name: str, role: Role, created_by: str) -> str:
    token = "sqa_" + secrets.token_urlsafe(32)
    session.add(ApiTokenRow(name=name, role=role.value, token_sha256=digest(token), created_by=created_by,
                            created_at=time.time(), revoked_at=None))
    session.flush()
    return token
