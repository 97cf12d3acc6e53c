"""Billing ledger and beneficiary lifecycle: coverage periods, scheduled movements,
ledger line kinds (crédito, art. 30/31), prices of the contract, waiting periods, the
operator's bank agreement and the boleto's own PIX txid.

Existing data is kept and carried over:
- every beneficiary gets its coverage periods from its row (company, plan, effective
  and exclusion dates), split at each applied transfer and plan change by the values
  those movements recorded, plus the earlier stretch a reactivation replaced;
- every price table of a plan is copied to each contract of that plan (the plan's own
  tables stay as the operator's reference prices);
- a company's ledger starts at its first invoiced month (the contract's start month if
  it has none), so months settled before the portal are never charged again.

Revision ID: 0009_billing_ledger
Revises: 0008_mail_delivery
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

import data.types

revision: str = "0009_billing_ledger"
down_revision: str | None = "0008_mail_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('monthly', 'retroactive', 'plan_change_difference')"
NEW_KINDS = "kind IN ('monthly', 'retroactive', 'plan_change_difference', 'credit', 'stay')"
CHUNK = 5_000


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    with op.batch_alter_table("operator") as batch_op:
        for name, length in (
            ("bank_agreement", 20),
            ("bank_wallet", 5),
            ("bank_branch", 10),
            ("bank_account", 20),
        ):
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
    with op.batch_alter_table("company") as batch_op:
        batch_op.add_column(sa.Column("billing_start", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "band_change", sa.String(length=15), nullable=False, server_default="next_month"
            )
        )
        batch_op.add_column(sa.Column("waiting_periods", sa.JSON(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_company_band_change"), "band_change IN ('next_month', 'birthday_month')"
        )
    with op.batch_alter_table("price_table") as batch_op:
        batch_op.add_column(sa.Column("contracted_plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="bands")
        )
        batch_op.add_column(sa.Column("readjustment_pct", data.types.Money(), nullable=True))
        batch_op.add_column(
            sa.Column("pooled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.drop_constraint(op.f("uq_price_table_plan_id"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_price_table_contracted_plan_id"), ["contracted_plan_id", "valid_from"]
        )
        batch_op.create_foreign_key(
            op.f("fk_price_table_contracted_plan_id_contracted_plan"),
            "contracted_plan",
            ["contracted_plan_id"],
            ["id"],
        )
        batch_op.create_index(
            op.f("ix_price_table_contracted_plan_id"), ["contracted_plan_id"], unique=False
        )
        batch_op.create_check_constraint(op.f("ck_price_table_kind"), "kind IN ('bands', 'single')")
    op.create_index(
        "uq_price_table_reference",
        "price_table",
        ["plan_id", "valid_from"],
        unique=True,
        sqlite_where=sa.text("contracted_plan_id IS NULL"),
        postgresql_where=sa.text("contracted_plan_id IS NULL"),
    )
    with op.batch_alter_table("beneficiary") as batch_op:
        batch_op.add_column(sa.Column("waiting_periods", sa.JSON(), nullable=True))
    with op.batch_alter_table("movement") as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=10), nullable=False, server_default="applied")
        )
        batch_op.add_column(sa.Column("pending", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("coverage_before", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("cancelled_at", data.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("cancel_protocol_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_movement_cancel_protocol_id_protocol"),
            "protocol",
            ["cancel_protocol_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            op.f("ck_movement_state"), "state IN ('applied', 'scheduled', 'cancelled')"
        )
        batch_op.create_index("ix_movement_state_effective", ["state", "effective_date"])
    with op.batch_alter_table("invoice_line") as batch_op:
        batch_op.drop_constraint(op.f("ck_invoice_line_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_invoice_line_kind"), NEW_KINDS)
    with op.batch_alter_table("boleto") as batch_op:
        batch_op.add_column(sa.Column("txid", sa.String(length=25), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_boleto_txid"), ["txid"])
    op.create_table(
        "coverage_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False, server_default="regular"),
        sa.Column("movement_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('regular', 'stay')", name=op.f("ck_coverage_period_kind")),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date > start_date", name=op.f("ck_coverage_period_dates")
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiary.id"],
            name=op.f("fk_coverage_period_beneficiary_id_beneficiary"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_coverage_period_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_coverage_period_plan_id_plan")
        ),
        sa.ForeignKeyConstraint(
            ["movement_id"], ["movement.id"], name=op.f("fk_coverage_period_movement_id_movement")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_period")),
    )
    op.create_index(
        op.f("ix_coverage_period_beneficiary_id"), "coverage_period", ["beneficiary_id"]
    )
    op.create_index(
        "ix_coverage_period_company_dates",
        "coverage_period",
        ["company_id", "start_date", "end_date"],
    )
    conn = op.get_bind()
    _coverage_from_history(conn)
    _contract_price_tables(conn)
    conn.execute(
        sa.text(
            "UPDATE company SET billing_start = (SELECT MIN(invoice.billing_month) FROM invoice "
            "WHERE invoice.company_id = company.id)"
        )
    )
    for cid, start in conn.execute(
        sa.text("SELECT id, contract_start FROM company WHERE billing_start IS NULL")
    ).all():
        first = _as_date(start)
        assert first is not None
        conn.execute(
            sa.text("UPDATE company SET billing_start = :d WHERE id = :id"),
            {"d": first.replace(day=1), "id": cid},
        )


def _coverage_from_history(conn: sa.Connection) -> None:
    """One period per beneficiary from its row, split at each transfer and plan change."""
    splits: dict[int, list[tuple[date, int, int]]] = {}
    earlier: dict[int, list[tuple[date, date, int, int]]] = {}
    for bid, kind, eff, company_id, from_company, old_plan, before in conn.execute(
        sa.text(
            "SELECT beneficiary_id, kind, effective_date, company_id, from_company_id, "
            "old_plan_id, before FROM movement "
            "WHERE kind IN ('transfer', 'plan_change', 'reactivation') ORDER BY id"
        )
    ):
        when = _as_date(eff)
        assert when is not None
        if kind == "reactivation":
            data = before if isinstance(before, dict) else _json(before)
            start = _as_date((data or {}).get("effective_date"))
            end = _as_date((data or {}).get("exclusion_date"))
            plan = (data or {}).get("plan_id")
            if start and end and plan and end > start:
                earlier.setdefault(bid, []).append((start, end, company_id, int(plan)))
            continue
        splits.setdefault(bid, []).append(
            (when, int(from_company or company_id), int(old_plan or 0))
        )
    rows: list[dict[str, Any]] = []
    query = sa.text(
        "SELECT id, company_id, plan_id, effective_date, exclusion_date FROM beneficiary "
        "ORDER BY id"
    )
    for bid, company_id, plan_id, eff, exc in conn.execute(query):
        start, end = _as_date(eff), _as_date(exc)
        assert start is not None
        if end is not None and end <= start:
            continue  # excluded on the day it began: never covered
        pieces: list[tuple[date, date | None, int, int]] = []
        current_end, company, plan = end, company_id, plan_id
        for when, old_company, old_plan in sorted(splits.get(bid, []), reverse=True):
            if not start < when < (current_end or date.max):
                continue
            pieces.append((when, current_end, company, plan))
            current_end, company, plan = when, old_company, old_plan or plan
        pieces.append((start, current_end, company, plan))
        for p_start, p_end, p_company, p_plan in earlier.get(bid, []):
            if p_end <= start:
                pieces.append((p_start, p_end, p_company, p_plan))
        for p_start, p_end, p_company, p_plan in pieces:
            rows.append(
                {
                    "beneficiary_id": bid,
                    "company_id": p_company,
                    "plan_id": p_plan,
                    "start_date": p_start,
                    "end_date": p_end,
                    "kind": "regular",
                }
            )
        if len(rows) >= CHUNK:
            _insert_periods(conn, rows)
            rows = []
    _insert_periods(conn, rows)


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def _insert_periods(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(
            sa.text(
                "INSERT INTO coverage_period (beneficiary_id, company_id, plan_id, start_date, "
                "end_date, kind) VALUES (:beneficiary_id, :company_id, :plan_id, :start_date, "
                ":end_date, :kind)"
            ),
            rows,
        )


def _contract_price_tables(conn: sa.Connection) -> None:
    """Each contract gets a copy of its plan's tables, with their validity."""
    tables = conn.execute(
        sa.text(
            "SELECT id, plan_id, valid_from, valid_to FROM price_table "
            "WHERE contracted_plan_id IS NULL ORDER BY id"
        )
    ).all()
    bands: dict[int, list[Any]] = {}
    for table_id, band, min_age, max_age, price in conn.execute(
        sa.text("SELECT price_table_id, band, min_age, max_age, price FROM price_band")
    ):
        bands.setdefault(table_id, []).append((band, min_age, max_age, price))
    contracts: dict[int, list[int]] = {}
    for cp_id, plan_id in conn.execute(sa.text("SELECT id, plan_id FROM contracted_plan")):
        contracts.setdefault(plan_id, []).append(cp_id)
    for table_id, plan_id, valid_from, valid_to in tables:
        for cp_id in contracts.get(plan_id, []):
            new_id = conn.execute(
                sa.text(
                    "INSERT INTO price_table (plan_id, contracted_plan_id, kind, valid_from, "
                    "valid_to, pooled) VALUES (:plan, :cp, 'bands', :vf, :vt, :pooled) "
                    "RETURNING id"
                ),
                {"plan": plan_id, "cp": cp_id, "vf": valid_from, "vt": valid_to, "pooled": False},
            ).scalar_one()
            rows = [
                {"t": new_id, "b": b, "lo": lo, "hi": hi, "p": price}
                for b, lo, hi, price in bands.get(table_id, [])
            ]
            if rows:
                conn.execute(
                    sa.text(
                        "INSERT INTO price_band (price_table_id, band, min_age, max_age, price) "
                        "VALUES (:t, :b, :lo, :hi, :p)"
                    ),
                    rows,
                )


def downgrade() -> None:
    # The old schema has no contract tables, periods, credits or stays: they go.
    op.execute(
        "DELETE FROM price_band WHERE price_table_id IN "
        "(SELECT id FROM price_table WHERE contracted_plan_id IS NOT NULL)"
    )
    op.execute("DELETE FROM price_table WHERE contracted_plan_id IS NOT NULL")
    op.execute("DELETE FROM invoice_line WHERE kind IN ('credit', 'stay')")
    op.drop_index("ix_coverage_period_company_dates", table_name="coverage_period")
    op.drop_index(op.f("ix_coverage_period_beneficiary_id"), table_name="coverage_period")
    op.drop_table("coverage_period")
    with op.batch_alter_table("boleto") as batch_op:
        batch_op.drop_constraint(op.f("uq_boleto_txid"), type_="unique")
        batch_op.drop_column("txid")
    with op.batch_alter_table("invoice_line") as batch_op:
        batch_op.drop_constraint(op.f("ck_invoice_line_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_invoice_line_kind"), OLD_KINDS)
    with op.batch_alter_table("movement") as batch_op:
        batch_op.drop_index("ix_movement_state_effective")
        batch_op.drop_constraint(op.f("ck_movement_state"), type_="check")
        batch_op.drop_constraint(
            op.f("fk_movement_cancel_protocol_id_protocol"), type_="foreignkey"
        )
        for name in ("cancel_protocol_id", "cancelled_at", "coverage_before", "pending", "state"):
            batch_op.drop_column(name)
    with op.batch_alter_table("beneficiary") as batch_op:
        batch_op.drop_column("waiting_periods")
    op.drop_index("uq_price_table_reference", table_name="price_table")
    with op.batch_alter_table("price_table") as batch_op:
        batch_op.drop_constraint(op.f("ck_price_table_kind"), type_="check")
        batch_op.drop_index(op.f("ix_price_table_contracted_plan_id"))
        batch_op.drop_constraint(
            op.f("fk_price_table_contracted_plan_id_contracted_plan"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("uq_price_table_contracted_plan_id"), type_="unique")
        batch_op.create_unique_constraint(op.f("uq_price_table_plan_id"), ["plan_id", "valid_from"])
        for name in ("pooled", "readjustment_pct", "kind", "contracted_plan_id"):
            batch_op.drop_column(name)
    with op.batch_alter_table("company") as batch_op:
        batch_op.drop_constraint(op.f("ck_company_band_change"), type_="check")
        for name in ("waiting_periods", "band_change", "billing_start"):
            batch_op.drop_column(name)
    with op.batch_alter_table("operator") as batch_op:
        for name in ("bank_account", "bank_branch", "bank_wallet", "bank_agreement"):
            batch_op.drop_column(name)
