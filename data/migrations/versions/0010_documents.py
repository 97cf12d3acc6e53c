"""Documents on demand: issued documents and their verification codes.

Revision ID: 0010_documents
Revises: 0009_billing_ledger
"""

from collections.abc import Sequence

revision: str = "0010_documents"
down_revision: str | None = "0009_billing_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
