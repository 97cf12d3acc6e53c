"""Notices: the bell's notices and each user's e-mail preference.

Revision ID: 0012_notices
Revises: 0011_bank_files
"""

from collections.abc import Sequence

revision: str = "0012_notices"
down_revision: str | None = "0011_bank_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
