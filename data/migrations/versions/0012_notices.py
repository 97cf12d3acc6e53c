"""Notices: the bell's notices and each user's e-mail preference.

Revision ID: 0012_notices
Revises: 0011_bank_files
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import data.types

revision: str = "0012_notices"
down_revision: str | None = "0011_bank_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "kind IN ('cutoff', 'invoice_overdue', 'exclusion_scheduled', 'dependent_ageing', "
    "'batch_finished')"
)


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=80), nullable=True),
        sa.Column("created_at", data.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_at", data.types.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(KINDS, name=op.f("ck_notice_kind")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notice_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_notice_company_id_company")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("user_id", "dedupe_key", name=op.f("uq_notice_user_id")),
    )
    op.create_index(op.f("ix_notice_company_id"), "notice", ["company_id"])
    op.create_index("ix_notice_user_company_read", "notice", ["user_id", "company_id", "read_at"])
    op.create_table(
        "notice_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", data.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notice_preference_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notice_preference")),
    )


def downgrade() -> None:
    op.drop_table("notice_preference")
    op.drop_index("ix_notice_user_company_read", table_name="notice")
    op.drop_index(op.f("ix_notice_company_id"), table_name="notice")
    op.drop_table("notice")
