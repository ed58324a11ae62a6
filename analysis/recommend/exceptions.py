"""Exceptions of the threshold recommender."""

from __future__ import annotations

from analysis.exceptions import InvalidInput


class InvalidConfig(InvalidInput):
    """Raised when a recommender, its test, its detector or a guardrail gets parameters outside their range."""


class InvalidObservations(InvalidInput):
    """Raised when an observation cannot enter the test: no confidence, or a weight above the declared bound."""
