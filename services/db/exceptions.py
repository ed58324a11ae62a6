"""Exceptions of the persistence layer. All derive from :class:`ShadowQAError`."""

from __future__ import annotations

from analysis.exceptions import ShadowQAError


class IllegalTransition(ShadowQAError):
    """Raised when a manual task is asked to move between two states the task state machine does not link."""

    def __init__(self, task_id: str, current: str, target: str) -> None:
        self.task_id = task_id
        self.current = current
        self.target = target
        super().__init__(f"task {task_id!r}: illegal transition {current!r} -> {target!r}")


class RowMismatch(ShadowQAError):
    """Raised when a mapper is given rows or messages that do not belong together (another task, another model)."""


class InvalidDatabaseUrl(ShadowQAError):
    """Raised when a database URL cannot be parsed or names a driver that is not installed (password hidden)."""
