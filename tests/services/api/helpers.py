"""Factories for the API tests: blind tasks, comparison rows, a fake clock, bearer headers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.api.app import Api
from services.api.tokens import Role, Tokens
from services.db.engine import session_factory
from services.db.mappers import task_row
from services.db.models import Base, ComparisonRow, ManualAnnotationRow, ManualTaskRow, TaskLeaseRow
from services.loop.messages import ManualTask, task_id

T0 = 1_760_000_000.0
ADMIN_TOKEN = "sqa_test_admin_token_of_32_characters_or_more"
MODEL = "driving-detector@0123456789ab"
COCO_BODY: dict[str, Any] = {"annotations": [{"bbox": [10.0, 20.0, 30.0, 12.0], "category_id": 1}],
                             "tags": {"weather": "rain"}}


def frame_id(i: int) -> str:
    return f"driving-s0-{i:06d}"


def manual_task(i: int, *, copy: int = 1, copies: int = 1, stratum: str = "all", pi: float = 0.5,
                time: float | None = None) -> ManualTask:
    """Copy ``copy`` of synthetic driving frame ``i`` (a real frame reference: its image can be rendered)."""
    fid = frame_id(i)
    return ManualTask.model_validate({
        "task_id": task_id(fid, copy), "frame_id": fid, "seq": i + 1, "image": f"synthetic://driving?seed=0#{i}",
        "copy": copy, "inclusion_prob": pi, "consensus_prob": 0.5 if copies == 2 else 0.0, "policy_version": 0,
        "copies": copies, "stratum": stratum, "time": T0 + i if time is None else time,
    })


def frame_tasks(i: int, *, copies: int = 1, stratum: str = "all", time: float | None = None) -> list[ManualTask]:
    """Every copy of frame ``i``'s task."""
    return [manual_task(i, copy=c, copies=copies, stratum=stratum, time=time) for c in range(1, copies + 1)]


def add(engine: Engine, rows: Iterable[Base]) -> None:
    with session_factory(engine)() as session, session.begin():
        session.add_all(list(rows))


def add_tasks(engine: Engine, tasks: Sequence[ManualTask]) -> list[str]:
    """Queue ``tasks``; their ids, in order."""
    add(engine, [task_row(t) for t in tasks])
    return [t.task_id for t in tasks]


def comparison(i: int, *, accepted: bool, pi: float = 1.0, stratum: str = "all", model_version: str = MODEL,
               kind: str = "machine", confidence: float | None = 0.9) -> ComparisonRow:
    return ComparisonRow(frame_id=frame_id(i), kind=kind, accepted=accepted, inclusion_prob=pi, stratum=stratum,
                         confidence=confidence, model_version=model_version, policy_version=0, tp=3,
                         fp=0 if accepted else 2, fn=1, mean_iou=0.8, time=T0 + i)


def token(engine: Engine, name: str, role: Role | str) -> dict[str, str]:
    """Bearer headers of a new ``role`` token named ``name``."""
    return bearer(Tokens(engine).create(name, Role(role), created_by="tests"))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


ADMIN = bearer(ADMIN_TOKEN)
ClientFactory = Callable[..., TestClient]  # the make_client fixture: create_app options -> a started TestClient


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: float = T0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def task(session: Session, tid: str) -> ManualTaskRow:
    row = session.scalar(select(ManualTaskRow).where(ManualTaskRow.task_id == tid))
    assert row is not None, tid
    return row


def leases(session: Session, tid: str | None = None) -> list[TaskLeaseRow]:
    query = select(TaskLeaseRow).order_by(TaskLeaseRow.id)
    return list(session.scalars(query if tid is None else query.where(TaskLeaseRow.task_id == tid)).all())


def answers(session: Session) -> list[ManualAnnotationRow]:
    return list(session.scalars(select(ManualAnnotationRow).order_by(ManualAnnotationRow.id)).all())


def api_of(client: TestClient) -> Api:
    """The API object behind a TestClient (its queue, tokens, config)."""
    api: Api = client.app.state.api  # type: ignore[attr-defined]
    return api
