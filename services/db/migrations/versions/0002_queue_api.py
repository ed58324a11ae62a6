"""The annotation queue API: lease log, API tokens, lease expiry count, the annotations' outbox mark.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(table: str) -> tuple[sa.Column[int], sa.PrimaryKeyConstraint]:
    column = sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)
    return column, sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def upgrade() -> None:
    op.create_table(
        "task_leases", *_id("task_leases"),
        sa.Column("task_id", sa.String(length=255), nullable=False),
        sa.Column("frame_id", sa.String(length=255), nullable=False),
        sa.Column("annotator", sa.String(length=255), nullable=False),
        sa.Column("leased_at", sa.Double(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('submitted', 'expired', 'skipped')",
                           name=op.f("ck_task_leases_outcome")),
        sa.ForeignKeyConstraint(["task_id"], ["manual_tasks.task_id"],
                                name=op.f("fk_task_leases_task_id_manual_tasks")),
    )
    op.create_index("ix_task_leases_annotator_frame", "task_leases", ["annotator", "frame_id"])
    op.create_index(op.f("ix_task_leases_task_id"), "task_leases", ["task_id"])
    op.create_table(
        "api_tokens", *_id("api_tokens"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.CheckConstraint("role IN ('annotator', 'reader', 'admin')", name=op.f("ck_api_tokens_role")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("manual_tasks") as batch:
        batch.add_column(sa.Column("expiries", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("manual_annotations") as batch:
        batch.add_column(sa.Column("published_at", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("manual_annotations") as batch:
        batch.drop_column("published_at")
    with op.batch_alter_table("manual_tasks") as batch:
        batch.drop_column("expiries")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_task_leases_task_id"), table_name="task_leases")
    op.drop_index("ix_task_leases_annotator_frame", table_name="task_leases")
    op.drop_table("task_leases")
