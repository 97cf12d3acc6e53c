"""Attempts at the public forms, for their rate limits.

Revision ID: 0005_rate_events
Revises: 0004_user_sessions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import data.types

revision: str = "0005_rate_events"
down_revision: str | None = "0004_user_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=120), nullable=False),
        sa.Column("at", data.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rate_event_bucket_at", "rate_event", ["bucket", "at"])


def downgrade() -> None:
    op.drop_index("ix_rate_event_bucket_at", table_name="rate_event")
    op.drop_table("rate_event")
