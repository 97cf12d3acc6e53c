"""Cost centres: the company's list and each holder's cost centre.

Revision ID: 0013_cost_centres
Revises: 0012_notices
"""

from collections.abc import Sequence

revision: str = "0013_cost_centres"
down_revision: str | None = "0012_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
