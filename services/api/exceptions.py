"""Exceptions of the HTTP API. All derive from :class:`ShadowQAError`; services/api/errors.py and the routes say
which HTTP status answers each."""

from __future__ import annotations

from services.exceptions import ShadowQAError


class DatabaseBusy(ShadowQAError):
    """Raised when the database was not free for a write within the API's wait (another writer held it)."""


class QueueError(ShadowQAError):
    """Raised when a queue step cannot be done; ``status`` is the HTTP status the API answers with."""

    status = 409

    def __init__(self, task_id: str, detail: str) -> None:
        super().__init__(f"task {task_id!r}: {detail}" if task_id else detail)
        self.task_id, self.detail = task_id, detail


class NotYourTask(QueueError):
    """Raised when the task does not exist or is not leased to the caller (both 404: no probing others' tasks)."""

    status = 404


class LeaseLost(QueueError):
    """Raised when the caller's lease has run out (or the task was submitted or skipped)."""


class TooManyLeases(QueueError):
    """Raised when the annotator already holds as many tasks as allowed."""


class AnswerMismatch(QueueError):
    """Raised when an answer does not fit its task: frames for a frame's task, none for a clip's, or a frame index
    outside the clip (422)."""

    status = 422


class AlreadyRecorded(QueueError):
    """Raised when an answer from another tool (by its reference) was recorded before: nothing is recorded twice."""


class TokenError(ShadowQAError):
    """Raised when a token cannot be created, rotated or revoked as asked (name taken or invalid, unknown name)."""


class TokenConflict(TokenError):
    """Raised when a concurrent creation or rotation of the same name won: the name changed meanwhile (409)."""


class WeakAdminToken(ShadowQAError):
    """Raised at start when SHADOWQA_ADMIN_TOKEN is shorter than ADMIN_TOKEN_MIN characters."""


class GateQueryError(ShadowQAError):
    """Raised when the evidence cannot answer a gate question as asked; ``field`` names the query parameter."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


class NotPublished(ShadowQAError):
    """Raised when Kafka did not take a record the API must publish before it records it (nothing is recorded)."""


class NotPinned(ShadowQAError):
    """Raised when a release names a stratum that has no pin."""


class PinConflict(ShadowQAError):
    """Raised when a concurrent first pin of the same stratum won (the caller may retry: it then replaces it)."""
