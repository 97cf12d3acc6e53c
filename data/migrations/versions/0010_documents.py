"""Documents on demand: issued documents and their verification codes.

Revision ID: 0010_documents
Revises: 0009_billing_ledger
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import data.types

revision: str = "0010_documents"
down_revision: str | None = "0009_billing_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('income_tax', 'discharge', 'permanence', 'exclusion_proof')"


def upgrade() -> None:
    op.create_table(
        "issued_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("issued_at", data.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("issued_by_user_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_issued_document_kind")),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_issued_document_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiary.id"],
            name=op.f("fk_issued_document_beneficiary_id_beneficiary"),
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_issued_document_issued_by_user_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_document")),
        sa.UniqueConstraint("code", name=op.f("uq_issued_document_code")),
    )
    op.create_index(
        "ix_issued_document_company_issued", "issued_document", ["company_id", "issued_at"]
    )
    op.create_index(
        op.f("ix_issued_document_beneficiary_id"), "issued_document", ["beneficiary_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_issued_document_beneficiary_id"), table_name="issued_document")
    op.drop_index("ix_issued_document_company_issued", table_name="issued_document")
    op.drop_table("issued_document")
