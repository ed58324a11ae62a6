"""The outbox's dead letters: an annotation that cannot be encoded or sent is marked, not retried for ever.

Until now the API's outbox retried such a row on every round, re-sent the rows ahead of it and published none
after it. Now it puts a dead letter on ``dead-letters`` and records here when and why; ``published_at`` stays
empty (the annotation never reached ``manual-annotations``). Rows of earlier versions are all undecided: none
is dead-lettered by this revision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("manual_annotations") as batch:
        batch.add_column(sa.Column("dead_lettered_at", sa.Double(), nullable=True))
        batch.add_column(sa.Column("dead_letter_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    """Forgets the marks: an older outbox retries those rows again (and stalls on them, as it did)."""
    with op.batch_alter_table("manual_annotations") as batch:
        batch.drop_column("dead_letter_reason")
        batch.drop_column("dead_lettered_at")
