"""Exceptions of the Label Studio bridge."""

from __future__ import annotations

from services.exceptions import ShadowQAError


class LabelStudioError(ShadowQAError):
    """Raised when Label Studio answers a request with an error (4xx) the bridge cannot recover from."""


class LabelStudioUnavailable(LabelStudioError):
    """Raised when Label Studio cannot be reached or fails (connection refused, timeout, 5xx): try again later."""


class NotFound(LabelStudioError):
    """Raised when what was asked for is not in Label Studio (HTTP 404): a task or project deleted there."""


class BadSignature(ShadowQAError):
    """Raised when an image URL's signature is wrong or has expired."""


class NotConfigured(ShadowQAError):
    """Raised when the bridge's shared secret is not set (SHADOWQA_LABELSTUDIO_SECRET)."""
