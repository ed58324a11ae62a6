"""The migrations create exactly the tables the models declare, downgrading removes them, and revisions that
add keys mend the rows that broke them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, UniqueConstraint, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.db.engine import current_revision, downgrade, head_revision, make_engine, upgrade
from services.db.mappers import comparison_row, recommendation_row, stats_row, values
from services.db.models import Base
from services.loop.messages import AgreementStats, ComparisonMessage, RecommendationMessage
from tests.services.db.conftest import message
from tests.services.loop.messages.samples import T

VERSION_TABLE = "alembic_version"
ROOT = Path(__file__).resolve().parents[3]


def _schema(engine: Engine) -> dict[str, set[str]]:
    inspector = inspect(engine)
    return {table: {c["name"] for c in inspector.get_columns(table)} for table in inspector.get_table_names()}


def test_upgrade_creates_the_tables_and_columns_of_the_models(engine: Engine) -> None:
    declared = {name: {c.name for c in table.columns} for name, table in Base.metadata.tables.items()}
    assert _schema(engine) == {**declared, VERSION_TABLE: {"version_num"}}
    assert set(declared) == {
        "manual_tasks", "manual_annotations", "comparisons", "agreement_stats", "recommendations", "policies", "routes",
        "task_leases", "api_tokens", "policy_pins", "external_refs", "labelstudio_tasks",
    }


def test_migrated_schema_has_no_difference_from_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_indexes_and_unique_constraints_match_the_models(engine: Engine) -> None:
    inspector = inspect(engine)
    for name, table in Base.metadata.tables.items():
        # PostgreSQL also lists the index behind each unique constraint, marked ``duplicates_constraint``
        indexes = {i["name"] for i in inspector.get_indexes(name) if not i.get("duplicates_constraint")}
        assert indexes == {i.name for i in table.indexes}, name
        declared = {tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, UniqueConstraint)}
        declared |= {(c.name,) for c in table.columns if c.unique}
        assert {tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)} == declared, name


def test_downgrade_to_base_drops_every_table(database_url: str, engine: Engine) -> None:
    downgrade(database_url)
    assert _schema(engine) == {VERSION_TABLE: {"version_num"}}
    upgrade(database_url)  # and it comes back
    assert set(_schema(engine)) == {*Base.metadata.tables, VERSION_TABLE}


def test_an_in_memory_database_is_migrated_through_its_engine() -> None:
    engine = make_engine("sqlite://")
    upgrade(engine)
    with Session(engine) as session:
        session.add(comparison_row(message(ComparisonMessage)))
        session.commit()
    with Session(engine) as session:  # another session, the same in-memory database
        assert session.query(Base.metadata.tables["comparisons"]).count() == 1
    engine.dispose()


def test_processes_that_migrate_at_once_all_succeed(database_url: str) -> None:
    """The persist worker and the API both migrate at start; without the migration lock some of these fail."""
    code = f"from services.db.engine import upgrade; upgrade({database_url!r})"
    processes = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], errors
    assert current_revision(database_url) == head_revision()


def test_revision_0003_keeps_the_earliest_of_doubled_snapshots(database_url: str) -> None:
    """Before 0003 two writers could double a snapshot; the migration keeps the first row of each key."""
    upgrade(database_url, "0002")
    engine = make_engine(database_url)
    stats, recommendations = Base.metadata.tables["agreement_stats"], Base.metadata.tables["recommendations"]
    first = values(stats_row(message(AgreementStats)))
    later = values(stats_row(message(AgreementStats, time=T + 5)))
    advice = values(recommendation_row(message(RecommendationMessage)))
    with engine.begin() as connection:
        connection.execute(stats.insert(), [first, {**first, "decision": "fail"}, later, {**first, "lower": 0.0}])
        connection.execute(recommendations.insert(), [advice, {**advice, "reason": "doubled"}])
    upgrade(database_url)
    with engine.connect() as connection:
        kept = connection.execute(select(stats.c.time, stats.c.decision, stats.c.lower).order_by(stats.c.id)).all()
        reasons = connection.execute(select(recommendations.c.reason)).scalars().all()
    engine.dispose()
    assert kept == [(first["time"], first["decision"], first["lower"]), (later["time"], later["decision"],
                                                                           later["lower"])]
    assert reasons == [advice["reason"]]


def test_revision_0004_frees_a_revoked_name_and_keeps_one_unrevoked_token_per_name(database_url: str) -> None:
    """Before 0004 a revoked name could never take a new token; after it, a name has at most one unrevoked token."""
    upgrade(database_url, "0003")
    engine = make_engine(database_url)
    tokens = Base.metadata.tables["api_tokens"]

    def token(digest: str, revoked_at: float | None) -> dict[str, object]:
        return {"name": "ann", "role": "annotator", "token_sha256": digest, "created_by": "tests", "created_at": T,
                "revoked_at": revoked_at}

    with engine.begin() as connection:
        connection.execute(tokens.insert(), [token("a" * 64, T + 1)])
    with pytest.raises(IntegrityError), engine.begin() as connection:  # 0003: the name is taken for ever
        connection.execute(tokens.insert(), [token("b" * 64, None)])
    upgrade(database_url)
    with engine.begin() as connection:  # the same person's new token
        connection.execute(tokens.insert(), [token("b" * 64, None)])
    with pytest.raises(IntegrityError), engine.begin() as connection:  # a second unrevoked one
        connection.execute(tokens.insert(), [token("c" * 64, None)])
    with engine.begin() as connection:
        rows = connection.execute(select(tokens.c.token_sha256, tokens.c.revoked_at).order_by(tokens.c.id)).all()
        connection.execute(tokens.delete().where(tokens.c.token_sha256 == "a" * 64))
    engine.dispose()
    assert rows == [("a" * 64, T + 1), ("b" * 64, None)]
    downgrade(database_url, "0003")  # one row per name again: the old constraint comes back
    assert current_revision(database_url) == "0003"
