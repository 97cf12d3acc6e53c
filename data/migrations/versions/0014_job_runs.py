"""Job runs: long work a user queued (the monthly billing run), its state and result.

Revision ID: 0014_job_runs
Revises: 0013_cost_centres
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import data.types

revision: str = "0014_job_runs"
down_revision: str | None = "0013_cost_centres"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", data.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", data.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", data.types.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('billing_run')", name=op.f("ck_job_run_kind")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_job_run_status")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_job_run_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    op.create_index("ix_job_run_kind_status", "job_run", ["kind", "status"])
    op.create_index(op.f("ix_job_run_user_id"), "job_run", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_run_user_id"), table_name="job_run")
    op.drop_index("ix_job_run_kind_status", table_name="job_run")
    op.drop_table("job_run")
