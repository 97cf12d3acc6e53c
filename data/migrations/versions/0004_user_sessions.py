"""Sessions kept on the server, a session epoch and the password history on users:
logout, inactivation and password changes end sessions; the last-3 password rule.

Revision ID: 0004_user_sessions
Revises: 0003_batch_content
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import data.types

revision: str = "0004_user_sessions"
down_revision: str | None = "0003_batch_content"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("password_history", sa.JSON(), nullable=True))
    op.create_table(
        "user_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", data.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", data.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", data.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("password_history")
        batch_op.drop_column("session_epoch")
