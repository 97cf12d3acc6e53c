"""Cost centres: the company's list and each holder's cost centre.

Revision ID: 0013_cost_centres
Revises: 0012_notices
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_cost_centres"
down_revision: str | None = "0012_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cost_centre",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_cost_centre_company_id_company")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_centre")),
        sa.UniqueConstraint("company_id", "code", name=op.f("uq_cost_centre_company_id")),
    )
    with op.batch_alter_table("company") as batch_op:
        batch_op.add_column(
            sa.Column(
                "cost_centre_required", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    # SQLite cannot add a foreign key to an existing table: batch mode copies it.
    with op.batch_alter_table("beneficiary") as batch_op:
        batch_op.add_column(sa.Column("cost_centre_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_beneficiary_cost_centre_id_cost_centre"),
            "cost_centre",
            ["cost_centre_id"],
            ["id"],
        )
        batch_op.create_index(
            op.f("ix_beneficiary_cost_centre_id"), ["cost_centre_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("beneficiary") as batch_op:
        batch_op.drop_index(op.f("ix_beneficiary_cost_centre_id"))
        batch_op.drop_constraint(
            op.f("fk_beneficiary_cost_centre_id_cost_centre"), type_="foreignkey"
        )
        batch_op.drop_column("cost_centre_id")
    with op.batch_alter_table("company") as batch_op:
        batch_op.drop_column("cost_centre_required")
    op.drop_table("cost_centre")
