"""The Label Studio bridge: tools that hold leases for people working elsewhere, and answers recorded once.

``task_leases.outcome`` may also be ``handed_over`` (a tool's lease ended because a person's answer arrived; the
person's own lease follows in the log) or ``released`` (the tool gave the task back). ``external_refs`` keys each
answer from another tool, so a webhook and a poll that both bring it record it once; ``labelstudio_tasks`` maps
the bridge's Label Studio tasks to frames.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "outcome IS NULL OR outcome IN ('submitted', 'expired', 'skipped')"
NEW = "outcome IS NULL OR outcome IN ('submitted', 'expired', 'skipped', 'handed_over', 'released')"


def upgrade() -> None:
    with op.batch_alter_table("task_leases") as batch:
        batch.drop_constraint(op.f("ck_task_leases_outcome"), type_="check")
        batch.create_check_constraint("outcome", NEW)
    op.create_table(
        "external_refs",
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("task_id", sa.String(length=255), nullable=True),
        sa.Column("annotator", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_external_refs")),
    )
    op.create_table(
        "labelstudio_tasks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("server", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("ls_task_id", sa.Integer(), nullable=False),
        sa.Column("frame_id", sa.String(length=255), nullable=False),
        sa.Column("image_task_id", sa.String(length=255), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("signed_until", sa.Double(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("closed_at", sa.Double(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labelstudio_tasks")),
        sa.UniqueConstraint("server", "ls_task_id", name=op.f("uq_labelstudio_tasks_server_ls_task_id")),
    )
    op.create_index("ix_labelstudio_tasks_open", "labelstudio_tasks", ["server", "closed_at"])
    op.create_index(op.f("ix_labelstudio_tasks_frame_id"), "labelstudio_tasks", ["frame_id"])


def downgrade() -> None:
    """Drops the bridge's tables. The old check refuses the tool outcomes, so those log rows are deleted first (the
    people's own leases, which carry the queue's rules, stay)."""
    op.drop_index(op.f("ix_labelstudio_tasks_frame_id"), table_name="labelstudio_tasks")
    op.drop_index("ix_labelstudio_tasks_open", table_name="labelstudio_tasks")
    op.drop_table("labelstudio_tasks")
    op.drop_table("external_refs")
    op.execute("DELETE FROM task_leases WHERE outcome IN ('handed_over', 'released')")
    with op.batch_alter_table("task_leases") as batch:
        batch.drop_constraint(op.f("ck_task_leases_outcome"), type_="check")
        batch.create_check_constraint("outcome", OLD)
