"""Session epoch and password history on users, for ending sessions and the last-3 rule.

Revision ID: 0004_user_sessions
Revises: 0003_batch_content
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("password_history")
        batch_op.drop_column("session_epoch")
