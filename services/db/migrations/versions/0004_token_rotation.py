"""Token names are identities that outlive a secret: one unrevoked token per name, instead of one token per name.

A revoked token's name could never be used again, so a leaked token could not be replaced without giving its
holder a new identity (their skip history and consensus separation are kept by name). The unique constraint on
``api_tokens.name`` becomes a partial unique index over unrevoked rows. Downgrading restores the constraint and
fails if a name has several rows by then (revoked ones included): remove those rows first.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint(op.f("uq_api_tokens_name"), type_="unique")
    op.create_index("uq_api_tokens_name_active", "api_tokens", ["name"], unique=True, sqlite_where=ACTIVE,
                    postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index("uq_api_tokens_name_active", table_name="api_tokens")
    with op.batch_alter_table("api_tokens") as batch:
        batch.create_unique_constraint(op.f("uq_api_tokens_name"), ["name"])
