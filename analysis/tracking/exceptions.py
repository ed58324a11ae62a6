"""Exceptions of the tracking metrics. All derive from :class:`ShadowQAError` through :class:`InvalidInput`."""

from __future__ import annotations

from analysis.exceptions import InvalidInput, InvalidSpec


class InvalidTracks(InvalidInput):
    """Raised when track arrays break the model: shapes, frame range, box sizes, a repeated (frame, track id)."""


class ClipMismatch(InvalidInput):
    """Raised when ground truth and hypothesis describe clips of different lengths."""


class InvalidMetricParameter(InvalidInput):
    """Raised when a metric parameter, such as the IoU threshold, is outside its range."""


class InvalidTrackSpec(InvalidSpec):
    """Raised when a track acceptance spec has an unknown key or a limit outside its range."""
