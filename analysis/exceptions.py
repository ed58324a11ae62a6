"""Exceptions raised by the analysis core. All derive from :class:`ShadowQAError`."""

from __future__ import annotations


class ShadowQAError(Exception):
    """Root of every error shadowqa raises on purpose."""


class InvalidInput(ShadowQAError):
    """Raised when an input document or value breaks its contract.

    The message names the source, the record and the field, for example
    ``gt.json: annotations[17].bbox: width is negative``.
    """

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        location = f"{source}: {where}" if where else source
        super().__init__(f"{location}: {problem}")


class InvalidSpec(InvalidInput):
    """Raised when a quality spec is malformed or names an unknown class."""


class AnalysisFailed(ShadowQAError):
    """Raised when an analyzer fails unexpectedly; the message says what it was doing."""
