"""Annotator accounts on a Label Studio 1.23.2 server that can log in to the labelling page.

``POST /api/users`` makes a user without a usable password and without an organization (the login form then
rejects them), so accounts are made the way a person invited by the admin makes one: through the signup form
at the admin's invite link (``GET /api/invite``), which puts the new user in the admin's organization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

TIMEOUT_S = 60.0
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_FIELD_ERROR = re.compile(r'<ul class="field_errors">\s*<li>([^<]+)</li>')


@dataclass(frozen=True)
class Annotator:
    """An account that logs in with ``email`` and ``password``; ``user_id`` is what annotations' completed_by hold."""

    user_id: int
    email: str
    password: str = field(repr=False)


def create_annotator(url: str, admin_token: str, *, email: str, password: str) -> Annotator:
    """Sign ``email`` up through the admin's invite link and return the new account, in the admin's organization.

    ``password`` must pass the server's validators: 8 to 128 characters, not too like the email.
    """
    with httpx.Client(base_url=url, headers={"Authorization": f"Token {admin_token}"}, timeout=TIMEOUT_S) as admin:
        invite = admin.get("/api/invite").raise_for_status().json()["invite_url"]
        with httpx.Client(base_url=url, timeout=TIMEOUT_S) as visitor:
            _sign_up(visitor, invite, email, password)
        user = _user_by_email(admin, email)
        organization = admin.get("/api/current-user/whoami").raise_for_status().json()["active_organization"]
    if user["active_organization"] != organization:
        raise RuntimeError(f"{email} joined organization {user['active_organization']}, not the admin's "
                           f"{organization}")
    return Annotator(user_id=int(user["id"]), email=email, password=password)


def _sign_up(visitor: httpx.Client, invite: str, email: str, password: str) -> None:
    form = visitor.get(invite).raise_for_status()
    csrf = _CSRF.search(form.text)
    if csrf is None:
        raise RuntimeError(f"the signup page {invite} has no CSRF token")
    sent = visitor.post(invite, data={"csrfmiddlewaretoken": csrf.group(1), "email": email, "password": password})
    if sent.status_code != 302:  # the form comes back (200) with its errors when the signup is refused
        errors = "; ".join(_FIELD_ERROR.findall(sent.text)) or sent.text[:300]
        raise RuntimeError(f"signup of {email} refused ({sent.status_code}): {errors}")


def _user_by_email(admin: httpx.Client, email: str) -> dict[str, Any]:
    users: list[dict[str, Any]] = admin.get("/api/users/").raise_for_status().json()
    found = [user for user in users if str(user["email"]).lower() == email.lower()]
    if len(found) != 1:
        raise RuntimeError(f"{len(found)} users with email {email} after signup")
    return found[0]
