"""Unique keys on the snapshot tables: a replayed statistics snapshot or recommendation is one row, whoever writes.

Until now the persist sink checked for an equal row before inserting (safe with one writer only). Rows that
two writers doubled before this revision are removed first, keeping the earliest.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = {
    "agreement_stats": ["stratum", "model_version", "n", "time"],
    "recommendations": ["stratum", "policy_version", "time"],
}


def upgrade() -> None:
    for table, columns in KEYS.items():
        key = ", ".join(columns)
        op.execute(f"DELETE FROM {table} WHERE id NOT IN (SELECT MIN(id) FROM {table} GROUP BY {key})")
        with op.batch_alter_table(table) as batch:
            batch.create_unique_constraint(op.f(f"uq_{table}_{'_'.join(columns)}"), columns)


def downgrade() -> None:
    for table, columns in KEYS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"uq_{table}_{'_'.join(columns)}"), type_="unique")
