"""Exceptions raised by the services layer."""

from __future__ import annotations

from analysis.exceptions import InvalidInput, ShadowQAError


class UnreadableFile(InvalidInput):
    """Raised when an input file is missing, unreadable, empty, or not valid JSON/YAML."""


__all__ = ["InvalidInput", "ShadowQAError", "UnreadableFile"]
