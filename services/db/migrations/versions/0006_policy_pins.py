"""People's pins: a stratum's threshold held until released (published on ``policy-pins``; the aggregator applies
them over its recommendations). One row per pinned stratum; a release deletes it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_pins",
        sa.Column("stratum", sa.String(length=255), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=True),
        sa.Column("pinned_by", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("time", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("stratum", name=op.f("pk_policy_pins")),
    )


def downgrade() -> None:
    op.drop_table("policy_pins")
