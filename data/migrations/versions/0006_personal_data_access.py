"""Record of who saw a beneficiary's personal data (LGPD).

Revision ID: 0006_personal_data_access
Revises: 0005_rate_events
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import data.types

revision: str = "0006_personal_data_access"
down_revision: str | None = "0005_rate_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_data_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", data.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"]),
        sa.ForeignKeyConstraint(["beneficiary_id"], ["beneficiary.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_personal_data_access_beneficiary", "personal_data_access", ["beneficiary_id", "at"]
    )
    op.create_index(
        "ix_personal_data_access_company_at", "personal_data_access", ["company_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_personal_data_access_company_at", table_name="personal_data_access")
    op.drop_index("ix_personal_data_access_beneficiary", table_name="personal_data_access")
    op.drop_table("personal_data_access")
