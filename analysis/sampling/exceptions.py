"""Exceptions of the sampling policies and the router."""

from __future__ import annotations

from analysis.exceptions import InvalidInput


class InvalidPolicy(InvalidInput):
    """Raised when a sampling policy, a floor or a router is built with parameters outside their range."""
