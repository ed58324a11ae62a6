"""Exceptions of the message layer. All derive from :class:`ShadowQAError`."""

from __future__ import annotations

from analysis.exceptions import ShadowQAError


class InvalidMessage(ShadowQAError):
    """Raised when a message's bytes are not a valid message of their kind; ``reason`` is one line naming the field.

    For example ``manual-annotations: objects[3].bbox: width is negative`` or
    ``frames: schema_version 2 is not supported``.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
