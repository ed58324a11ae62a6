"""Exceptions raised by the engine's step chain. All derive from :class:`~analysis.exceptions.ShadowQAError`."""

from __future__ import annotations

from analysis.exceptions import InvalidInput


class InvalidPipeline(InvalidInput):
    """Raised when a pipeline spec is malformed: unknown key or kind, bad parameter, steps out of order."""


class SnapshotMismatch(InvalidInput):
    """Raised when a snapshot cannot feed a run: missing, corrupt, or made by other earlier steps or source."""
