"""Exceptions raised by the feed, annotator and snapshot tools. All derive from :class:`ShadowQAError`."""

from __future__ import annotations

from analysis.exceptions import ShadowQAError


class ToolError(ShadowQAError):
    """Root of the tools' errors."""


class UnknownTopic(ToolError):
    """Raised when a tool is pointed at a topic the broker does not have (topics are never auto-created)."""


class DeliveryFailed(ToolError):
    """Raised when the broker did not acknowledge messages a tool produced."""


class BrokerAway(DeliveryFailed):
    """Raised when the broker does not answer in time: a record could not be queued (``send``: it was not sent), or
    queued records are not acknowledged yet (``flush``: the producer still holds them and keeps retrying)."""


class RecordRefused(DeliveryFailed):
    """Raised when the producer or the broker refuses a record itself (invalid): sending it again cannot help."""


class RecordTooLarge(RecordRefused):
    """Raised when a record is larger than the producer's ``max_request_size`` or the broker's message limit."""


class SnapshotIncomplete(ToolError):
    """Raised when a snapshot cannot read every partition up to its end offset within the timeout."""


class WorkerFailed(ToolError):
    """Raised when a simulated annotator's thread stops on an unexpected error; names the worker and the error."""
