"""E-mailed single-use links for more than password resets: a purpose, and the company
and address of a company activation (which has no user yet).

Existing rows are password reset links: they get the purpose `password_reset`, the
company of their user, and keep everything else.

Revision ID: 0007_access_tokens
Revises: 0006_personal_data_access
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_access_tokens"
down_revision: str | None = "0006_personal_data_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES = "purpose IN ('password_reset', 'company_activation', 'user_invitation')"


def upgrade() -> None:
    with op.batch_alter_table("password_reset_token") as batch_op:
        batch_op.add_column(
            sa.Column(
                "purpose", sa.String(length=20), nullable=False, server_default="password_reset"
            )
        )
        batch_op.add_column(sa.Column("company_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            op.f("fk_password_reset_token_company_id_company"), "company", ["company_id"], ["id"]
        )
        batch_op.create_index(
            op.f("ix_password_reset_token_company_id"), ["company_id"], unique=False
        )
        batch_op.create_check_constraint(op.f("ck_password_reset_token_purpose"), PURPOSES)
        batch_op.create_check_constraint(
            op.f("ck_password_reset_token_owner"), "user_id IS NOT NULL OR company_id IS NOT NULL"
        )
    # The company a reset link is about: its user's (none for an account manager).
    op.execute(
        "UPDATE password_reset_token SET company_id = (SELECT app_user.company_id FROM "
        "app_user WHERE app_user.id = password_reset_token.user_id)"
    )


def downgrade() -> None:
    # Links that are not password resets cannot live in the old table.
    op.execute("DELETE FROM password_reset_token WHERE purpose <> 'password_reset'")
    with op.batch_alter_table("password_reset_token") as batch_op:
        batch_op.drop_constraint(op.f("ck_password_reset_token_owner"), type_="check")
        batch_op.drop_constraint(op.f("ck_password_reset_token_purpose"), type_="check")
        batch_op.drop_index(op.f("ix_password_reset_token_company_id"))
        batch_op.drop_constraint(
            op.f("fk_password_reset_token_company_id_company"), type_="foreignkey"
        )
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("email")
        batch_op.drop_column("company_id")
        batch_op.drop_column("purpose")
