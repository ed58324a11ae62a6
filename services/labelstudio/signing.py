"""Signed, expiring image URLs: the browser fetches a task's image from shadowqa's API without an API token.

The URL names one task copy and an expiry time and carries an HMAC-SHA256 of both under the bridge's shared
secret (SHADOWQA_LABELSTUDIO_SECRET), so it cannot be changed to show another frame or to last longer. The API
answers it with the frame's pixels and ``Access-Control-Allow-Origin`` (Label Studio's page is on another
origin); the bridge signs again before a URL runs out, while the task is open in Label Studio.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote, urlencode

from services.labelstudio.exceptions import BadSignature

IMAGE_ROUTE = "/v1/labelstudio/images/"
DEFAULT_VALID_S = 24 * 3600.0


def signature(secret: str, task_id: str, expires: int) -> str:
    message = f"{task_id}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def image_url(api_url: str, secret: str, task_id: str, expires: int) -> str:
    """The signed URL of ``task_id``'s image on the API at ``api_url``, valid until ``expires`` (Unix s)."""
    query = urlencode({"expires": expires, "sig": signature(secret, task_id, expires)})
    return f"{api_url.rstrip('/')}{IMAGE_ROUTE}{quote(task_id, safe='')}?{query}"


def verify(secret: str, task_id: str, expires: int, sig: str, now: float | None = None) -> None:
    """Raise :class:`BadSignature` unless ``sig`` signs ``task_id`` and ``expires`` and that time is ahead."""
    if not hmac.compare_digest(signature(secret, task_id, expires), sig):
        raise BadSignature("the image URL's signature does not match (changed, or signed with another secret)")
    if (time.time() if now is None else now) > expires:
        raise BadSignature("the image URL has expired; the bridge signs a new one while the task is open")
