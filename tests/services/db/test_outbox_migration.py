"""Revision 0005 adds the outbox's dead-letter marks: rows stored before it stay as they were (pending or
published, none dead-lettered), and downgrading drops the marks and keeps the rows."""

from __future__ import annotations

from sqlalchemy import inspect, select, text

from services.db.engine import current_revision, downgrade, make_engine, upgrade
from services.db.mappers import task_row
from services.db.models import Base
from tests.services.api.helpers import T0, manual_task

MARKS = {"dead_lettered_at", "dead_letter_reason"}


def test_revision_0005_adds_the_dead_letter_marks_and_leaves_earlier_rows_undecided(database_url: str) -> None:
    upgrade(database_url, "0004")
    engine = make_engine(database_url)
    tasks = Base.metadata.tables["manual_tasks"]
    with engine.begin() as connection:
        for i in range(2):
            task = task_row(manual_task(i))
            connection.execute(tasks.insert(), [{c.name: getattr(task, c.name) for c in tasks.columns
                                                 if c.name not in ("id", "clip")}])  # clip: revision 0008
        connection.execute(text(
            "INSERT INTO manual_annotations (task_id, annotator, objects, tags, submitted_at, published_at) VALUES "
            "(:a, 'ann', '[]', '{}', :t, NULL), (:b, 'ann', '[]', '{}', :t, :t)"),
            {"a": manual_task(0).task_id, "b": manual_task(1).task_id, "t": T0})

    upgrade(database_url)
    columns = {c["name"] for c in inspect(engine).get_columns("manual_annotations")}
    assert columns >= MARKS
    rows = Base.metadata.tables["manual_annotations"]
    with engine.connect() as connection:
        stored = connection.execute(select(rows.c.published_at, rows.c.dead_lettered_at, rows.c.dead_letter_reason)
                                    .order_by(rows.c.id)).all()
    assert stored == [(None, None, None), (T0, None, None)]

    downgrade(database_url, "0004")
    assert current_revision(database_url) == "0004"
    inspector = inspect(engine)
    assert not MARKS & {c["name"] for c in inspector.get_columns("manual_annotations")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM manual_annotations")).scalar() == 2
    engine.dispose()
