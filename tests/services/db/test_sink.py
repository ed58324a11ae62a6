"""The persist worker's writes, on both backends: each message once, replays change nothing, leases survive."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from services.db import sink
from services.db.engine import make_engine, upgrade
from services.db.models import (
    ComparisonRow,
    ManualTaskRow,
    PolicyRow,
    RecommendationRow,
    RouteRow,
    StatsRow,
)
from services.loop.messages import (
    AgreementStats,
    ComparisonMessage,
    Delivery,
    ManualTask,
    PolicyMessage,
    RecommendationMessage,
)
from tests.services.db.conftest import message
from tests.services.loop.messages.samples import T

SALT = "shadowqa"
MODELS = (ManualTaskRow, ComparisonRow, StatsRow, RecommendationRow, PolicyRow, RouteRow)


def _task(frame: str, copy: int, copies: int = 2) -> ManualTask:
    return message(ManualTask, task_id=f"{frame}/{copy}", frame_id=frame, copy=copy, copies=copies)


def _batch() -> sink.Batch:
    """Two copies of one manual frame, a shipped frame, and one message of every other kind."""
    return sink.Batch(
        tasks=[_task("f-1", 1), _task("f-1", 2)], deliveries=[message(Delivery, frame_id="f-2")],
        comparisons=[message(ComparisonMessage), message(ComparisonMessage, kind="consensus")],
        stats=[message(AgreementStats)], recommendations=[message(RecommendationMessage)],
        policies=[message(PolicyMessage)],
    )


def _write(engine: Engine, batch: sink.Batch) -> dict[str, int]:
    return sink.writer(engine, hash_salt=SALT)(batch)


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0 for m in MODELS}


def _routes(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with Session(engine) as session:
        return {r.frame_id: (r.route, r.copies, r.model_version, r.hash_salt, r.inclusion_prob, r.policy_version)
                for r in session.scalars(select(RouteRow))}


def test_a_batch_is_written_once_and_its_replay_inserts_nothing(engine: Engine) -> None:
    expected = {"manual_tasks": 2, "comparisons": 2, "agreement_stats": 1, "recommendations": 1, "policies": 1,
                "routes": 2}
    assert _write(engine, _batch()) == expected
    assert _counts(engine) == expected
    assert _write(engine, _batch()) == {}
    assert _counts(engine) == expected


def test_duplicates_inside_one_batch_are_written_once(engine: Engine) -> None:
    batch = _batch()
    twice = sink.Batch(tasks=batch.tasks * 2, deliveries=batch.deliveries * 2, comparisons=batch.comparisons * 2,
                       stats=batch.stats * 2, recommendations=batch.recommendations * 2, policies=batch.policies * 2)
    assert _write(engine, twice) == {"manual_tasks": 2, "comparisons": 2, "agreement_stats": 1, "recommendations": 1,
                                     "policies": 1, "routes": 2}


def test_a_replayed_task_never_overwrites_the_lease_the_api_gave_it(engine: Engine) -> None:
    _write(engine, sink.Batch(tasks=[_task("f-1", 1)]))
    with Session(engine) as session:
        session.execute(update(ManualTaskRow).values(state="leased", lease_owner="ann-1", lease_deadline=T + 60,
                                                     attempts=1, updated_at=T + 1))
        session.commit()
    assert _write(engine, sink.Batch(tasks=[_task("f-1", 1)])) == {}
    with Session(engine) as session:
        row = session.scalars(select(ManualTaskRow)).one()
        assert (row.state, row.lease_owner, row.lease_deadline, row.attempts, row.updated_at) == (
            "leased", "ann-1", T + 60, 1, T + 1)


def test_the_ledger_has_one_row_per_frame_and_learns_a_manual_frames_model_version_later(engine: Engine) -> None:
    _write(engine, _batch())
    assert _routes(engine) == {"f-1": ("manual", 2, None, SALT, 0.25, 3), "f-2": ("ship", 0, "m@1", SALT, 0.25, 3)}
    _write(engine, sink.Batch(model_versions={"f-1": "m@2", "f-2": "m@9"}))  # a shipped frame's own version stays
    assert {f: r[2] for f, r in _routes(engine).items()} == {"f-1": "m@2", "f-2": "m@1"}


def test_a_task_whose_model_version_is_known_gets_it_at_once(engine: Engine) -> None:
    _write(engine, sink.Batch(tasks=[_task("f-3", 1, copies=1)], model_versions={"f-3": "m@3"}))
    assert _routes(engine)["f-3"][:3] == ("manual", 1, "m@3")


def test_snapshots_are_new_rows_when_they_differ(engine: Engine) -> None:
    _write(engine, _batch())
    later = sink.Batch(stats=[message(AgreementStats, time=T + 5, n=121), message(AgreementStats)],
                       recommendations=[message(RecommendationMessage, time=T + 5)],
                       policies=[message(PolicyMessage, version=5), message(PolicyMessage, reason="same version")])
    assert _write(engine, later) == {"agreement_stats": 1, "recommendations": 1, "policies": 1}
    with Session(engine) as session:
        assert session.scalar(select(PolicyRow.reason).where(PolicyRow.version == 4)) == "certified"


def test_two_writers_of_one_snapshot_leave_one_row(postgres_url: str) -> None:
    """A second persist worker writing the same records while the first's transaction is open: the unique keys
    make it wait and insert nothing (a check before inserting could not see the first's uncommitted rows)."""
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        snapshots = sink.Batch(stats=[message(AgreementStats)], recommendations=[message(RecommendationMessage)])
        second: list[dict[str, int]] = []
        with engine.begin() as first:
            assert sink.write(first, snapshots, hash_salt=SALT) == {"agreement_stats": 1, "recommendations": 1}
            other = threading.Thread(target=lambda: second.append(_write(engine, snapshots)))
            other.start()
            other.join(timeout=1.0)
            assert other.is_alive(), "the second writer must wait for the first's transaction"
        other.join(timeout=30)
        assert second == [{}]
        assert _counts(engine)["agreement_stats"] == _counts(engine)["recommendations"] == 1
    finally:
        engine.dispose()
