"""What the database itself refuses: duplicates, orphans and values outside the state machine."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.db import mappers
from services.db.models import Base, ComparisonRow, ManualTaskRow
from services.loop.messages import ComparisonMessage, Delivery, ManualAnnotation, ManualTask, PolicyMessage
from tests.services.db.conftest import message


def _refused(session: Session, *rows: Base) -> None:
    session.add_all(rows)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_a_second_comparison_of_the_same_frame_and_kind_is_refused(session: Session) -> None:
    session.add(mappers.comparison_row(message(ComparisonMessage)))
    session.commit()
    _refused(session, mappers.comparison_row(message(ComparisonMessage, accepted=False, time=1.0)))
    session.add(mappers.comparison_row(message(ComparisonMessage, kind="consensus")))  # other kind: fine
    session.commit()
    assert session.scalar(select(func.count()).select_from(ComparisonRow)) == 2


@pytest.mark.parametrize("duplicate", [
    lambda: mappers.task_row(message(ManualTask)),
    lambda: mappers.policy_row(message(PolicyMessage)),
    lambda: mappers.route_row(message(Delivery), hash_salt="s"),
], ids=["task_id", "policy version", "routed frame"])
def test_unique_keys_are_refused_twice(session: Session, duplicate: Callable[[], Base]) -> None:
    session.add(duplicate())
    session.commit()
    _refused(session, duplicate())


def test_an_annotation_needs_its_task_and_only_one_per_task(session: Session) -> None:
    _refused(session, mappers.annotation_row(message(ManualAnnotation)))
    task = message(ManualTask, task_id="driving-s0-000007/1", copy=1)
    session.add_all([mappers.task_row(task), mappers.annotation_row(message(ManualAnnotation))])
    session.commit()
    _refused(session, mappers.annotation_row(message(ManualAnnotation, annotator="sim-3")))


@pytest.mark.parametrize(("column", "value", "constraint"), [
    ("state", "done", "ck_manual_tasks_state"), ("copy", 3, "ck_manual_tasks_copy"),
    ("copies", 0, "ck_manual_tasks_copy"),
])
def test_task_columns_outside_their_values_are_refused(session: Session, column: str, value: object,
                                                       constraint: str) -> None:
    session.add(mappers.task_row(message(ManualTask)))
    session.commit()
    # SQLite: "CHECK constraint failed: <name>"; PostgreSQL: 'violates check constraint "<name>"'
    with pytest.raises(IntegrityError, match=f'(CHECK constraint failed: |violates check constraint "){constraint}'):
        session.execute(update(ManualTaskRow).values({column: value}))
    session.rollback()


def test_a_ledger_row_agrees_with_its_route(session: Session) -> None:
    row = mappers.route_row(message(Delivery), hash_salt="s")
    row.copies = 1  # a shipped frame has no manual copies
    _refused(session, row)


def test_a_comparison_kind_outside_machine_and_consensus_is_refused(session: Session) -> None:
    row = mappers.comparison_row(message(ComparisonMessage))
    row.kind = "other"
    _refused(session, row)
