"""Keep the batch file's content, to apply it after the check and rebuild its result.

Revision ID: 0003_batch_content
Revises: 0002_report_indexes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_batch_content"
down_revision: str | None = "0002_report_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch_file") as batch_op:
        batch_op.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_file") as batch_op:
        batch_op.drop_column("content")
