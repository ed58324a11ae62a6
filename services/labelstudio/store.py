"""The bridge's map of its Label Studio tasks to frames, in shadowqa's database (``labelstudio_tasks``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.db.engine import session_factory
from services.db.models import LabelStudioTaskRow


@dataclass(frozen=True)
class OpenTask:
    """A Label Studio task the bridge keeps open for one frame."""

    ls_task_id: int
    project_id: int
    frame_id: str
    image_task_id: str
    overlap: int
    signed_until: float


class TaskMap:
    """Open and closed Label Studio tasks of one server."""

    def __init__(self, engine: Engine, server: str) -> None:
        self._sessions = session_factory(engine)
        self.server = server

    def add(self, task: OpenTask) -> None:
        with self._sessions() as session, session.begin():
            session.add(LabelStudioTaskRow(
                server=self.server, project_id=task.project_id, ls_task_id=task.ls_task_id, frame_id=task.frame_id,
                image_task_id=task.image_task_id, overlap=task.overlap, signed_until=task.signed_until,
                created_at=time.time(), closed_at=None))

    def open_tasks(self) -> list[OpenTask]:
        with self._sessions() as session:
            rows = session.scalars(select(LabelStudioTaskRow).where(
                LabelStudioTaskRow.server == self.server, LabelStudioTaskRow.closed_at.is_(None))
                .order_by(LabelStudioTaskRow.id)).all()
            return [_open(r) for r in rows]

    def frame_of(self, ls_task_id: int) -> str | None:
        """The frame of one of this server's tasks (open or closed), None for a task the bridge did not make."""
        with self._sessions() as session:
            return session.scalar(select(LabelStudioTaskRow.frame_id).where(
                LabelStudioTaskRow.server == self.server, LabelStudioTaskRow.ls_task_id == ls_task_id))

    def update(self, ls_task_id: int, *, overlap: int | None = None, signed_until: float | None = None) -> None:
        with self._sessions() as session, session.begin():
            row = self._row(session, ls_task_id)
            if overlap is not None:
                row.overlap = overlap
            if signed_until is not None:
                row.signed_until = signed_until

    def close(self, ls_task_id: int, reason: str) -> None:
        with self._sessions() as session, session.begin():
            row = self._row(session, ls_task_id)
            row.closed_at, row.reason = time.time(), reason

    def _row(self, session: Session, ls_task_id: int) -> LabelStudioTaskRow:
        return session.scalars(select(LabelStudioTaskRow).where(
            LabelStudioTaskRow.server == self.server, LabelStudioTaskRow.ls_task_id == ls_task_id)).one()


def _open(row: LabelStudioTaskRow) -> OpenTask:
    return OpenTask(ls_task_id=row.ls_task_id, project_id=row.project_id, frame_id=row.frame_id,
                    image_task_id=row.image_task_id, overlap=row.overlap, signed_until=row.signed_until)
