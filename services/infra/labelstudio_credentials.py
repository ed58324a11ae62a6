"""The local Label Studio's admin account: a fixed login, a password and an API token generated once (mode 0600)."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.infra.labelstudio_paths import LabelStudioPaths

DEFAULT_USERNAME = "admin@shadowqa.local"  # Label Studio logs in by e-mail address


@dataclass(frozen=True)
class Credentials:
    """The admin's login and password, and the legacy API token (``Authorization: Token <token>``)."""

    username: str
    password: str = field(repr=False)
    token: str = field(repr=False)

    def fingerprint(self) -> str:
        """A short digest naming these credentials, so a template made with others is told apart."""
        digest = hashlib.sha256("\0".join((self.username, self.password, self.token)).encode())
        return digest.hexdigest()[:16]


def load_credentials(paths: LabelStudioPaths, username: str = DEFAULT_USERNAME) -> Credentials:
    """The admin's credentials from ``paths.secrets``, the password and token generated on first use.

    The token is 40 hex digits, the length of Label Studio's (Django REST framework's) token keys.
    """
    paths.secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    password = _generated_once(paths.password_file, lambda: secrets.token_urlsafe(18))
    token = _generated_once(paths.token_file, lambda: secrets.token_hex(20))
    return Credentials(username=username, password=password, token=token)


def read_token(paths: LabelStudioPaths) -> str | None:
    """The local server's API token if it was generated (for a client of the local server), else None."""
    try:
        return paths.token_file.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _generated_once(path: Path, make: Callable[[], str]) -> str:
    """The value ``path`` holds; made by ``make`` and written with mode 0600 when the file is missing or empty."""
    try:
        value = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        value = ""
    if value:
        return value
    value = make()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an empty file made by hand may have had another mode
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(f"{value}\n")
    return value
