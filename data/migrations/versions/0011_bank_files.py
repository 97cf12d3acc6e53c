"""Bank files: CNAB 240 remessa and retorno files and their lines.

Revision ID: 0011_bank_files
Revises: 0010_documents
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import data.types

revision: str = "0011_bank_files"
down_revision: str | None = "0010_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVEMENTS = "movement IN ('01', '02')"
STATUSES = "status IN ('paid', 'divergent', 'unknown', 'already_paid', 'not_payment', 'outside')"


def _money(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, data.types.Money(), nullable=nullable)


def _at(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, data.types.UtcDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "bank_remittance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nsa", sa.Integer(), nullable=False),
        _at("generated_at"),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=60), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("titles", sa.Integer(), nullable=False),
        _money("entries_total"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_bank_remittance_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_remittance")),
        sa.UniqueConstraint("nsa", name=op.f("uq_bank_remittance_nsa")),
    )
    op.create_table(
        "bank_remittance_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=False),
        sa.Column("boleto_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("movement", sa.String(length=2), nullable=False),
        _money("amount"),
        sa.CheckConstraint(MOVEMENTS, name=op.f("ck_bank_remittance_item_movement")),
        sa.ForeignKeyConstraint(
            ["boleto_id"], ["boleto.id"], name=op.f("fk_bank_remittance_item_boleto_id_boleto")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_bank_remittance_item_company_id_company"),
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["bank_remittance.id"],
            name=op.f("fk_bank_remittance_item_remittance_id_bank_remittance"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_remittance_item")),
        sa.UniqueConstraint(
            "boleto_id", "movement", name=op.f("uq_bank_remittance_item_boleto_id")
        ),
    )
    op.create_index(
        op.f("ix_bank_remittance_item_company_id"), "bank_remittance_item", ["company_id"]
    )
    op.create_index(
        op.f("ix_bank_remittance_item_remittance_id"), "bank_remittance_item", ["remittance_id"]
    )
    op.create_table(
        "bank_return_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        _at("read_at"),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("bank_code", sa.String(length=3), nullable=False),
        sa.Column("nsa", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_bank_return_file_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_return_file")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_bank_return_file_content_hash")),
    )
    op.create_table(
        "bank_return_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_file_id", sa.Integer(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("boleto_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("title_id", sa.String(length=20), nullable=False),
        sa.Column("movement", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=15), nullable=False),
        _money("face_value"),
        _money("charges"),
        _money("discount"),
        _money("paid"),
        _money("owed", nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("credited_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=300), server_default="", nullable=False),
        sa.CheckConstraint(STATUSES, name=op.f("ck_bank_return_line_status")),
        sa.ForeignKeyConstraint(
            ["boleto_id"], ["boleto.id"], name=op.f("fk_bank_return_line_boleto_id_boleto")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_bank_return_line_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_bank_return_line_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["return_file_id"],
            ["bank_return_file.id"],
            name=op.f("fk_bank_return_line_return_file_id_bank_return_file"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_return_line")),
        sa.UniqueConstraint(
            "return_file_id", "line_number", name=op.f("uq_bank_return_line_return_file_id")
        ),
    )
    op.create_index(op.f("ix_bank_return_line_boleto_id"), "bank_return_line", ["boleto_id"])
    op.create_index(op.f("ix_bank_return_line_company_id"), "bank_return_line", ["company_id"])
    op.create_index(op.f("ix_bank_return_line_payment_id"), "bank_return_line", ["payment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_bank_return_line_payment_id"), table_name="bank_return_line")
    op.drop_index(op.f("ix_bank_return_line_company_id"), table_name="bank_return_line")
    op.drop_index(op.f("ix_bank_return_line_boleto_id"), table_name="bank_return_line")
    op.drop_table("bank_return_line")
    op.drop_table("bank_return_file")
    op.drop_index(op.f("ix_bank_remittance_item_remittance_id"), table_name="bank_remittance_item")
    op.drop_index(op.f("ix_bank_remittance_item_company_id"), table_name="bank_remittance_item")
    op.drop_table("bank_remittance_item")
    op.drop_table("bank_remittance")
