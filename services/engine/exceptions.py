"""Exceptions raised by the automation engine. All derive from :class:`~analysis.exceptions.ShadowQAError`."""

from __future__ import annotations

from analysis.exceptions import ShadowQAError


class RuntimeUnavailable(ShadowQAError):
    """Raised when a requested model runtime (ONNX Runtime) is not installed or cannot take the model."""
