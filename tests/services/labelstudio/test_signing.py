"""Signed, expiring image URLs (services/labelstudio/signing.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from services.labelstudio.exceptions import BadSignature
from services.labelstudio.signing import IMAGE_ROUTE, image_url, signature, verify

SECRET = "s" * 32


def _parts(url: str) -> tuple[str, int, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return unquote(split.path.removeprefix(IMAGE_ROUTE)), int(query["expires"][0]), query["sig"][0]


def test_a_url_names_its_task_and_verifies_until_it_expires() -> None:
    url = image_url("http://api.example:8000/", SECRET, "driving-s0-000001/2", 2_000)
    assert url.startswith("http://api.example:8000/v1/labelstudio/images/driving-s0-000001%2F2?")
    task, expires, sig = _parts(url.removeprefix("http://api.example:8000"))
    assert (task, expires) == ("driving-s0-000001/2", 2_000)
    verify(SECRET, task, expires, sig, now=1_999.0)
    with pytest.raises(BadSignature, match="expired"):
        verify(SECRET, task, expires, sig, now=2_001.0)


@pytest.mark.parametrize("change", ["task", "expires", "secret"])
def test_a_changed_url_or_another_secret_does_not_verify(change: str) -> None:
    sig = signature(SECRET, "driving-s0-000001/1", 2_000)
    task = "driving-s0-000002/1" if change == "task" else "driving-s0-000001/1"
    expires = 9_000 if change == "expires" else 2_000
    with pytest.raises(BadSignature, match="does not match"):
        verify("t" * 32 if change == "secret" else SECRET, task, expires, sig, now=1_000.0)
