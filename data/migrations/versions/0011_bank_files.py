"""Bank files: CNAB 240 remessa and retorno files and their lines.

Revision ID: 0011_bank_files
Revises: 0010_documents
"""

from collections.abc import Sequence

revision: str = "0011_bank_files"
down_revision: str | None = "0010_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
