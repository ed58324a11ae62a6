"""The manual task state machine, as pure logic (no SQLAlchemy).

A task is ``queued`` when the router issues it, ``leased`` while one annotator
holds it, then either ``submitted`` (final) or ``expired`` when the lease
deadline passes; an expired task is ``requeued`` and can be leased again. An
annotator who skips a task (with a reason) hands it straight back: ``leased ->
requeued``, and the queue never offers it to that person again::

    queued -> leased -> submitted
                     -> expired -> requeued -> leased
                     -> requeued (skipped)
"""

from __future__ import annotations

from enum import StrEnum

from services.db.exceptions import IllegalTransition


class TaskState(StrEnum):
    """Where a manual task is in its life; the value is what the ``state`` column holds."""

    QUEUED = "queued"
    LEASED = "leased"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    REQUEUED = "requeued"


TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.QUEUED: frozenset({TaskState.LEASED}),
    TaskState.LEASED: frozenset({TaskState.SUBMITTED, TaskState.EXPIRED, TaskState.REQUEUED}),
    TaskState.SUBMITTED: frozenset(),
    TaskState.EXPIRED: frozenset({TaskState.REQUEUED}),
    TaskState.REQUEUED: frozenset({TaskState.LEASED}),
}
LEASABLE = frozenset(s for s, targets in TRANSITIONS.items() if TaskState.LEASED in targets)


def allowed(current: TaskState | str, target: TaskState | str) -> bool:
    """Whether a task in ``current`` may move to ``target`` (unknown state names are never allowed)."""
    try:
        return TaskState(target) in TRANSITIONS[TaskState(current)]
    except ValueError:
        return False


def transition(task_id: str, current: TaskState | str, target: TaskState | str) -> TaskState:
    """``target`` as a :class:`TaskState`, or :class:`IllegalTransition` naming the task and both states."""
    if not allowed(current, target):
        raise IllegalTransition(task_id, str(current), str(target))
    return TaskState(target)
