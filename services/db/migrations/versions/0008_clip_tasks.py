"""Clip tasks: a task can be a whole clip (its frames, listed to the annotator) and its answer the person's objects
frame by frame with track ids. Both columns are null on a frame's task and answer, so rows of earlier versions are
frames' as they were.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not a batch (a copy of the table): SQLite (>= 3.35) adds and drops a column in place, while
# copying manual_tasks would break the foreign keys manual_annotations and task_leases hold on it.


def upgrade() -> None:
    op.add_column("manual_tasks", sa.Column("clip", sa.JSON(), nullable=True))
    op.add_column("manual_annotations", sa.Column("clip_frames", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Forgets clips: an older API serves a clip task as its first frame's."""
    op.drop_column("manual_annotations", "clip_frames")
    op.drop_column("manual_tasks", "clip")
