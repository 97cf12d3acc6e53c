"""report indexes

Covering indexes for the reports, so that every report figure is one index range scan
(no row lookups, no sort of the events on SQLite):
- utilization by company and date with the columns every aggregation reads;
- utilization by company and beneficiary, for "beneficiaries using" and top beneficiaries;
- beneficiaries by company with their effective and exclusion dates, for active lives.

Revision ID: 0002_report_indexes
Revises: 0001
Create Date: 2026-11-26 03:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002_report_indexes"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    (
        "ix_utilization_report",
        "utilization_event",
        [
            "company_id",
            "event_date",
            "procedure_group",
            "tuss_code",
            "provider_id",
            "beneficiary_id",
            "amount",
        ],
    ),
    (
        "ix_utilization_company_beneficiary",
        "utilization_event",
        ["company_id", "beneficiary_id", "event_date", "amount"],
    ),
    (
        "ix_beneficiary_company_dates",
        "beneficiary",
        ["company_id", "effective_date", "exclusion_date"],
    ),
]


def upgrade() -> None:
    """Upgrade schema."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
