"""E-mail delivered after the transaction that records it: statuses "pending" and
"sending", the attachment's bytes and the sealed body of a message with a secret (kept
until delivery), and the attempts with the last error (for the retry).

Revision ID: 0008_mail_delivery
Revises: 0007_access_tokens
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import data.types

revision: str = "0008_mail_delivery"
down_revision: str | None = "0007_access_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "status IN ('outbox', 'sent', 'failed')"
NEW = "status IN ('outbox', 'pending', 'sending', 'sent', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("outbox_email") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_email_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_email_status"), NEW)
        batch_op.add_column(sa.Column("attachment_mime", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("attachment_content", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("sealed_body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("last_attempt_at", data.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_error", sa.String(length=300), nullable=True))


def downgrade() -> None:
    # Undelivered messages cannot be kept by the old schema: they count as failed.
    op.execute("UPDATE outbox_email SET status = 'failed' WHERE status IN ('pending', 'sending')")
    with op.batch_alter_table("outbox_email") as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("sealed_body")
        batch_op.drop_column("attachment_content")
        batch_op.drop_column("attachment_mime")
        batch_op.drop_constraint(op.f("ck_outbox_email_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_email_status"), OLD)
