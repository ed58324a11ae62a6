"""Rows for the outbox tests: submitted annotations written straight to the database, poison ones included.

The API refuses the poison values at the door; rows stored by older versions (or a future bug) may still hold
them, so the tests write them directly, as such a version did.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from services.db.engine import session_factory
from services.db.mappers import task_row
from services.db.models import ManualAnnotationRow
from tests.services.api.helpers import T0, manual_task

BOX = {"bbox": [10.0, 20.0, 30.0, 12.0], "category_id": 1, "attributes": {}}


def poison(kind: str, *, size: int = 2_000_000) -> dict[str, Any]:
    """The fields of an annotation the outbox cannot publish: ``int64`` and ``surrogate`` cannot be encoded;
    ``too_large`` is a valid annotation of more than ``size`` bytes (objects with many long attributes, each
    within the message's bounds: a record too large for Kafka needs no invalid value)."""
    if kind == "int64":
        return {"objects": [{**BOX, "attributes": {"count": 2**70}}]}
    if kind == "surrogate":
        return {"tags": {"weather": "\udfff"}}
    if kind == "too_large":
        heavy = {**BOX, "attributes": {f"note{k}": "x" * 1000 for k in range(50)}}  # about 51 kB
        return {"objects": [heavy] * (size // 50_000 + 1)}
    raise ValueError(kind)


def submit(engine: Engine, frames: range | list[int], **fields: Any) -> list[str]:
    """Queue copy 1 of each frame and store its annotation (``fields`` override objects and tags); the task ids."""
    ids = []
    with session_factory(engine)() as session, session.begin():
        for i in frames:
            task = manual_task(i)
            session.add(task_row(task))
            session.add(ManualAnnotationRow(
                task_id=task.task_id, annotator="ann", objects=fields.get("objects", [BOX]),
                tags=fields.get("tags", {"weather": "rain"}), submitted_at=T0 + i, published_at=None))
            ids.append(task.task_id)
    return ids


def marks(engine: Engine) -> dict[str, tuple[bool, bool, str | None]]:
    """Each annotation's task id -> (published, dead-lettered, dead-letter reason)."""
    with session_factory(engine)() as session:
        rows = session.scalars(select(ManualAnnotationRow).order_by(ManualAnnotationRow.id)).all()
        return {r.task_id: (r.published_at is not None, r.dead_lettered_at is not None, r.dead_letter_reason)
                for r in rows}
