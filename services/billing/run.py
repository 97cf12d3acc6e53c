"""The monthly billing run: the ledger, set-based.

`billing_run` issues the invoices of a billing month X (its first day) for many
companies at once, with the ledger rule of `services.rules.ledger` (the reference;
`services.billing.ledger_lines` is the same rule vectorised): for every beneficiary b
and month m from max(billing start, X - 15 months) to X, the target is the month's price
if b is covered in m by this company (coverage_period rows: the month's FIRST period),
else 0; the invoice carries one line of target - charged wherever they differ, charged
being the net of b's lines for m on the company's invoices that are not cancelled:
"monthly" (m == X) or "retroactive" (m < X) when nothing was charged, "stay" for an
art. 30/31 stay, "credit" when nothing is due any more, "plan_change_difference"
otherwise. Prices come from the contract's tables (a contracted plan's price tables,
valid on the month's first day; a "single" table charges its one price, band 1, at every
age) and the age band of the month (the contract's band_change: the month after the
birthday, or the birthday's month).

The invoice amount is the exact sum of its lines; it is due on the contract's due day
of X, clamped to the month. A company already invoiced for X is skipped and reported,
so running again changes nothing (the unique (company, billing month) constraint backs
this up against two runs at once); months may be run in any order. A company with a
covered month that no table prices is skipped with the plan and month to fix.

Steps, each its own function: read (companies, then the ledger's inputs), compute
(`ledger_lines.compute_lines`), write (invoices, then lines), audit.

How it stays fast (1,000,000 beneficiaries in well under a minute on SQLite):
- Set-based: one query per table, read into pandas, never one query per beneficiary or
  company. Dates come out of SQL as YYYYMMDD integers and money as integer cents, so
  every step is vectorised integer arithmetic; existing lines are read through the
  invoices of the window's months only.
- Invoices are inserted with one Core executemany and read back by (company, month);
  lines go in with SQLAlchemy Core executemany in chunks of `LINE_CHUNK`: the INSERT
  compiled by SQLAlchemy for the dialect, run by `Connection.exec_driver_sql` with rows
  of ready-made values (integer cents, the Money column's storage), skipping
  SQLAlchemy's per-row parameter processing. Reads take the integer rows straight from
  the DBAPI cursor. Everything happens in one transaction: a failure leaves nothing
  half written.
- A company filter of more than `MAX_IN_IDS` ids is applied in pandas rather than as a
  huge SQL IN list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Integer, case, cast, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from data.models import (
    AuditRecord,
    Beneficiary,
    Company,
    ContractedPlan,
    CoveragePeriod,
    Invoice,
    InvoiceLine,
    Plan,
    PriceBand,
    PriceTable,
)
from data.uow import UnitOfWork, across_companies
from services.actors import Actor, Permission
from services.audit import json_safe
from services.billing.frames import (
    _KIND_ORDER,
    MAX_IN_IDS,
    NO_DATE,
    AnySelect,
    Progress,
    _cents_of,
    _companies_filter,
    _idx_of_ymd,
    _read,
    _ymd,
    money,
)
from services.billing.ledger_lines import KINDS, LedgerInput, compute_lines
from services.rules.billing import (
    add_months,
    invoice_due_date,
    month_end,
    month_from_index,
    month_index,
    month_start,
)
from services.rules.errors import DomainError
from services.rules.formats import format_int
from services.rules.ledger import LEDGER_LOOKBACK_MONTHS

LINE_CHUNK = 50_000
ID_CHUNK = 1_000  # beneficiary ids per IN list when reading the lines a credit cancels


@dataclass(frozen=True)
class BilledCompany:
    company_id: int
    code: str
    name: str
    invoice_id: int
    due_date: date
    amount: Decimal
    lines: int
    # kind -> number of lines / their total (kinds without lines are left out)
    kinds: dict[str, int] = field(default_factory=dict)
    kind_totals: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class SkippedCompany:
    company_id: int
    code: str
    name: str
    reason: str


@dataclass(frozen=True)
class BillingRunResult:
    """What one billing run issued and what it skipped, and why."""

    billing_month: date
    billed: list[BilledCompany]
    skipped: list[SkippedCompany]
    lines: int
    total: Decimal
    seconds: float
    # over every company billed: kind -> number of lines / their total
    kinds: dict[str, int] = field(default_factory=dict)
    kind_totals: dict[str, Decimal] = field(default_factory=dict)


def billing_month_options(today: date) -> list[date]:
    """Billing months an account manager may run: two back to two ahead, next first."""
    return [add_months(today, n) for n in (1, 0, 2, -1, -2)]


# ---------------------------------------------------------------- read


@dataclass
class _Plan:
    """The companies of a run: who is billed, who is skipped and why."""

    x: date
    companies: pd.DataFrame  # company_id, code, name, due_day, status, start, birthday_month
    to_bill: list[int]
    skipped: list[SkippedCompany]

    def skip(self, company_id: int, reason: str) -> None:
        row = self.companies[self.companies["company_id"] == company_id].iloc[0]
        self.skipped.append(SkippedCompany(company_id, row["code"], row["name"], reason))


def _read_companies(conn: Any, ids: list[int], x: date, dialect: str) -> _Plan:
    companies = _read(
        conn,
        _companies_filter(
            select(
                Company.id,
                Company.code,
                Company.name,
                Company.due_day,
                Company.status,
                # months before billing_start were settled outside the portal (none set:
                # the contract's start)
                _ymd(func.coalesce(Company.billing_start, Company.contract_start), dialect),
                case((Company.band_change == "birthday_month", 1), else_=0),
            ),
            Company.id,
            ids,
        ),
        ["company_id", "code", "name", "due_day", "status", "start", "birthday_month"],
        text=("code", "name", "status"),
    )
    companies = companies[companies["company_id"].isin(ids)].sort_values("code")
    invoiced = set(
        _read(
            conn,
            _companies_filter(
                select(Invoice.company_id).where(Invoice.billing_month == x),
                Invoice.company_id,
                ids,
            ),
            ["company_id"],
        )["company_id"].tolist()
    )
    plan = _Plan(x, companies, [], [])
    for r in companies.itertuples(index=False):
        cid = int(r.company_id)
        if cid in invoiced:
            plan.skip(cid, f"Já faturada para a competência {x:%m/%Y}.")
        elif r.status != "active":
            plan.skip(cid, "Empresa inativa.")
        else:
            plan.to_bill.append(cid)
    return plan


def _read_ledger(conn: Any, plan: _Plan, dialect: str) -> LedgerInput:
    """Coverage periods, births, contract prices and the lines already charged."""
    x, x_idx, ids = plan.x, month_index(plan.x), plan.to_bill
    billed = plan.companies[plan.companies["company_id"].isin(ids)]
    lo_of = _idx_of_ymd(billed["start"]).clip(lower=x_idx - LEDGER_LOOKBACK_MONTHS)
    companies = pd.DataFrame(
        {
            "company_id": billed["company_id"].to_numpy(),
            "lo": lo_of.to_numpy(),
            "birthday_month": billed["birthday_month"].to_numpy(),
        }
    )
    companies = companies[companies["lo"] <= x_idx]
    ids = companies["company_id"].tolist()
    lo = int(companies["lo"].min()) if ids else x_idx
    first_day = month_from_index(lo)
    filtered = len(ids) <= MAX_IN_IDS
    people = select(CoveragePeriod.beneficiary_id).where(CoveragePeriod.company_id.in_(ids))
    in_window = [
        CoveragePeriod.start_date <= month_end(x),
        or_(CoveragePeriod.end_date.is_(None), CoveragePeriod.end_date > first_day),
    ]
    if filtered:
        in_window.append(CoveragePeriod.beneficiary_id.in_(people))
    periods = _read_ints(
        conn,
        select(
            CoveragePeriod.beneficiary_id,
            CoveragePeriod.company_id,
            CoveragePeriod.plan_id,
            _ymd(CoveragePeriod.start_date, dialect),
            func.coalesce(_ymd(CoveragePeriod.end_date, dialect), NO_DATE),
            case((CoveragePeriod.kind == "stay", 1), else_=0),
            CoveragePeriod.id,
            func.coalesce(CoveragePeriod.movement_id, 0),
        ).where(*in_window),
        ["bid", "company_id", "plan_id", "start", "end", "stay", "period_id", "movement_id"],
    )
    if not filtered:
        periods = periods[periods["bid"].isin(periods.loc[periods["company_id"].isin(ids), "bid"])]
    births_query = select(Beneficiary.id, _ymd(Beneficiary.birth_date, dialect))
    if filtered:
        births_query = births_query.where(Beneficiary.id.in_(people))
    births = _read_ints(conn, births_query, ["bid", "birth"])
    charged, latest = _read_charged(conn, ids, x, lo, dialect)
    tables = _read(
        conn,
        _companies_filter(
            select(
                PriceTable.id,
                ContractedPlan.company_id,
                ContractedPlan.plan_id,
                case((PriceTable.kind == "single", 1), else_=0),
                _ymd(PriceTable.valid_from, dialect),
                func.coalesce(_ymd(PriceTable.valid_to, dialect), NO_DATE),
            ).join(ContractedPlan, ContractedPlan.id == PriceTable.contracted_plan_id),
            ContractedPlan.company_id,
            ids,
        ),
        ["table_id", "company_id", "plan_id", "single", "valid_from", "valid_to"],
    )
    tables = tables[tables["company_id"].isin(ids)]
    bands = _read(
        conn,
        select(PriceBand.price_table_id, PriceBand.band, _cents_of(PriceBand.price)).where(
            PriceBand.price_table_id.in_(
                select(PriceTable.id).where(PriceTable.contracted_plan_id.is_not(None))
            )
        ),
        ["table_id", "band", "cents"],
    )
    return LedgerInput(x_idx, companies, periods, births, charged, tables, bands, latest)


def _read_ints(conn: Any, stmt: AnySelect, columns: list[str]) -> pd.DataFrame:
    """`frames._read` for integer-only results, the big ones: the DBAPI rows are
    flattened straight into one int64 array (np.fromiter), half the time of np.array
    over a list of tuples at a million rows."""
    result = conn.execute(stmt)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * len(columns))
    return pd.DataFrame(flat.reshape(len(rows), len(columns)), columns=columns)


def _month_idx(column: Any, dialect: str) -> ColumnElement[int]:
    """A date column as its month index (year * 12 + month - 1)."""
    if dialect == "postgresql":
        return cast(func.extract("year", column) * 12 + func.extract("month", column) - 1, Integer)
    # SQLite stores dates as ISO text
    year = cast(func.substr(column, 1, 4), Integer)
    return year * 12 + cast(func.substr(column, 6, 2), Integer) - 1


def _read_charged(
    conn: Any, ids: list[int], x: date, lo: int, dialect: str
) -> tuple[pd.DataFrame, Callable[[pd.DataFrame], pd.DataFrame]]:
    """Net charges of the window (bid, company_id, m, cents) and how to find the plan
    and band of the latest line of the (few) beneficiary-months that get a credit.

    Lines of reference month m sit on invoices of months m .. m + 15: they are read
    through the invoices of the window's months, three integers a line (invoice, then
    beneficiary and month packed into one, cents), the fewest the DBAPI has to build.
    """
    first_day, span = month_from_index(lo), month_index(x) - lo + 1
    invoices_query = _companies_filter(
        select(Invoice.id, Invoice.company_id).where(
            Invoice.status != "cancelled", Invoice.billing_month >= first_day
        ),
        Invoice.company_id,
        ids,
    )
    invoices = _read(conn, invoices_query, ["id", "company_id"])
    invoices = invoices[invoices["company_id"].isin(ids)]
    in_window = [
        InvoiceLine.reference_month >= first_day,
        InvoiceLine.reference_month <= x,
    ]
    packed = InvoiceLine.beneficiary_id * span + (
        _month_idx(InvoiceLine.reference_month, dialect) - lo
    )
    rows = _read_ints(
        conn,
        select(InvoiceLine.invoice_id, packed, _cents_of(InvoiceLine.amount)).where(
            InvoiceLine.invoice_id.in_(invoices_query.with_only_columns(Invoice.id)),
            *in_window,
        ),
        ["invoice_id", "packed", "cents"],
    )
    company_of = np.zeros(int(invoices["id"].max()) + 1 if len(invoices) else 1, np.int64)
    company_of[invoices["id"].to_numpy()] = invoices["company_id"].to_numpy()
    invoice_ids = rows["invoice_id"].to_numpy()
    known = invoice_ids < len(company_of)
    packed_values = rows["packed"].to_numpy()[known]
    charged = pd.DataFrame(
        {
            "bid": packed_values // span,
            "company_id": company_of[invoice_ids[known]],
            "m": packed_values % span + lo,
            "cents": rows["cents"].to_numpy()[known],
        }
    )
    charged = charged[charged["company_id"] > 0]

    def latest(credits: pd.DataFrame) -> pd.DataFrame:
        bids = sorted(set(credits["bid"].tolist()))
        found = []
        for begin in range(0, len(bids), ID_CHUNK):
            found.append(
                _read(
                    conn,
                    select(
                        InvoiceLine.beneficiary_id,
                        Invoice.company_id,
                        _month_idx(InvoiceLine.reference_month, dialect),
                        InvoiceLine.plan_id,
                        InvoiceLine.age_band,
                        InvoiceLine.id,
                    )
                    .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                    .where(
                        Invoice.status != "cancelled",
                        InvoiceLine.beneficiary_id.in_(bids[begin : begin + ID_CHUNK]),
                        *in_window,
                    ),
                    ["bid", "company_id", "m", "plan_id", "band", "line_id"],
                )
            )
        lines = pd.concat(found, ignore_index=True).sort_values("line_id")
        last = lines.drop_duplicates(["bid", "company_id", "m"], keep="last")
        return last[["bid", "company_id", "m", "plan_id", "band"]]

    return charged, latest


# ---------------------------------------------------------------- compute


def _priced_lines(session: Any, plan: _Plan, data: LedgerInput) -> pd.DataFrame:
    """The ledger's lines of every company to bill; companies with an unpriced month
    or nothing to bill are skipped (and reported)."""
    out = compute_lines(data)
    for r in out.unpriced.itertuples(index=False):
        plan_row = session.get(Plan, int(r.plan_id))
        plan.skip(
            int(r.company_id),
            "Sem tabela de preço vigente para o plano "
            f"{plan_row.name if plan_row else r.plan_id} em "
            f"{month_from_index(int(r.m)):%m/%Y}: nada foi faturado.",
        )
    lines = out.lines[~out.lines["company_id"].isin(out.unpriced["company_id"])]
    failed = set(out.unpriced["company_id"].tolist())
    present = set(lines["company_id"].unique().tolist())
    for cid in plan.to_bill:
        if cid not in present and cid not in failed:
            plan.skip(cid, "Nenhum beneficiário a faturar nesta competência.")
    return lines


# ---------------------------------------------------------------- write


def _write_invoices(conn: Any, plan: _Plan, lines: pd.DataFrame, now: datetime) -> dict[int, int]:
    """One invoice per company with lines; returns company_id -> invoice id."""
    totals = lines.groupby("company_id")["cents"].sum()
    due_days = dict(zip(plan.companies["company_id"], plan.companies["due_day"], strict=True))
    x = plan.x
    rows = [
        {
            "company_id": int(cid),
            "billing_month": x,
            "due_date": invoice_due_date(x, int(due_days[cid])),
            "amount": money(int(cents)),
            "status": "open",
            "issued_at": now,
            "paid_on": None,
        }
        for cid, cents in totals.items()
    ]
    if rows:
        conn.execute(insert(Invoice), rows)
    return dict(
        _read(
            conn,
            _companies_filter(
                select(Invoice.company_id, Invoice.id).where(Invoice.billing_month == x),
                Invoice.company_id,
                [int(c) for c in totals.index],
            ),
            ["company_id", "id"],
        ).itertuples(index=False, name=None)
    )


_LINE_COLUMNS = (
    "invoice_id",
    "beneficiary_id",
    "plan_id",
    "reference_month",
    "age_band",
    "kind",
    "movement_id",
    "amount",
)


def _insert_lines(conn: Any, lines: pd.DataFrame, report: Progress) -> None:
    """Executemany of the lines, chunk by chunk, with ready-made driver parameters.

    The INSERT is SQLAlchemy's own, compiled for the connection's dialect; the rows go
    to Connection.exec_driver_sql as plain tuples (positional drivers) or dicts, so
    SQLAlchemy's per-row parameter processing, which costs more than the database's
    insert itself at this size, is skipped. The values are already what the columns
    store: integer cents for Money, and the date as SQLAlchemy writes it on SQLite
    (ISO text) or a `date` for the other drivers.
    """
    compiled = insert(InvoiceLine).compile(dialect=conn.dialect, column_keys=list(_LINE_COLUMNS))
    sql = str(compiled)
    order = list(compiled.positiontup or ()) if compiled.positional else list(_LINE_COLUMNS)
    assert set(order) == set(_LINE_COLUMNS), order
    iso_dates = conn.dialect.name == "sqlite"
    total = len(lines)
    months = {
        int(m): (month_from_index(int(m)).isoformat() if iso_dates else month_from_index(int(m)))
        for m in lines["m"].unique()
    }
    for begin in range(0, total, LINE_CHUNK):
        chunk = lines.iloc[begin : begin + LINE_CHUNK]
        columns = {
            "invoice_id": chunk["invoice_id"].tolist(),
            "beneficiary_id": chunk["bid"].tolist(),
            "plan_id": chunk["plan_id"].tolist(),
            "reference_month": [months[m] for m in chunk["m"].tolist()],
            "age_band": chunk["band"].tolist(),
            "kind": chunk["kind"].tolist(),
            "movement_id": [m if m > 0 else None for m in chunk["movement_id"].tolist()],
            "amount": chunk["cents"].tolist(),  # Money is stored as integer cents
        }
        ordered = [columns[name] for name in order]
        rows: list[Any] = list(zip(*ordered, strict=True))
        if not compiled.positional:
            rows = [dict(zip(order, row, strict=True)) for row in rows]
        conn.exec_driver_sql(sql, rows)
        done = min(begin + LINE_CHUNK, total)
        counted = f"{format_int(done)}/{format_int(total)}"
        report(0.5 + 0.45 * done / total, f"Gravando lançamentos: {counted}")


def _write(
    conn: Any, plan: _Plan, lines: pd.DataFrame, now: datetime, report: Progress
) -> list[BilledCompany]:
    """Invoices and lines in the caller's transaction; what each company got."""
    try:
        invoice_ids = _write_invoices(conn, plan, lines, now)
        lines = lines.assign(
            order=lines["kind"].map(_KIND_ORDER),
            invoice_id=lines["company_id"].map(invoice_ids),
        ).sort_values(["company_id", "order", "bid", "m"], kind="stable")
        _insert_lines(conn, lines, report)
    except IntegrityError:
        raise DomainError(
            "Outro faturamento desta competência terminou antes deste. Nada foi gravado: "
            "execute de novo para ver o que falta."
        ) from None
    by_kind = lines.groupby(["company_id", "kind"])["cents"].agg(["size", "sum"])
    names = plan.companies.set_index("company_id")
    billed = []
    for cid in plan.to_bill:
        if cid not in invoice_ids:
            continue
        kinds = by_kind.loc[cid] if cid in by_kind.index.get_level_values(0) else None
        counts: dict[str, int] = {}
        sums: dict[str, Decimal] = {}
        if kinds is not None:
            counts = {k: int(kinds.at[k, "size"]) for k in KINDS if k in kinds.index}
            sums = {k: money(int(kinds.at[k, "sum"])) for k in counts}
        billed.append(
            BilledCompany(
                cid,
                names.at[cid, "code"],
                names.at[cid, "name"],
                int(invoice_ids[cid]),
                invoice_due_date(plan.x, int(names.at[cid, "due_day"])),
                sum(sums.values(), Decimal("0.00")),
                sum(counts.values()),
                counts,
                sums,
            )
        )
    return billed


# ---------------------------------------------------------------- audit


def _audit(conn: Any, actor: Actor, x: date, billed: list[BilledCompany], now: datetime) -> None:
    rows = [
        {
            "at": now,
            "user_id": actor.user_id or None,  # None: a system run (portal-billing)
            "company_id": b.company_id,
            "action": "invoice_issue",
            "entity": "invoice",
            "entity_id": str(b.invoice_id),
            "before": None,
            "after": json_safe(
                {
                    "billing_month": x,
                    "due_date": b.due_date,
                    "amount": b.amount,
                    "lines": b.lines,
                    "kinds": b.kinds,
                    "channel": "billing_run",
                }
            ),
        }
        for b in billed
    ]
    if rows:
        conn.execute(insert(AuditRecord), rows)


# ---------------------------------------------------------------- the run


def billing_companies(actor: Actor, company_ids: Sequence[int] | None) -> list[int]:
    """The companies `actor` bills (None: its whole portfolio), refused unless it is an
    account manager with the finance permission on each."""
    if not actor.is_account_manager:
        raise DomainError("Só o gestor de contas executa o faturamento mensal.")
    ids = sorted(actor.company_ids if company_ids is None else set(company_ids))
    if not ids:
        raise DomainError("Escolha ao menos uma empresa para faturar.", "company")
    for company_id in ids:
        actor.require(Permission.FINANCE, company_id)
    return ids


def billing_run(
    *,
    uow: UnitOfWork,
    actor: Actor,
    billing_month: date,
    company_ids: Sequence[int] | None,
    now: datetime,
    progress: Progress | None = None,
) -> BillingRunResult:
    """Issue the invoices of ``billing_month`` for the chosen companies (None: the whole
    portfolio), skipping, and reporting, those already invoiced for that month."""
    report = progress or (lambda _fraction, _message: None)
    started = perf_counter()
    ids = billing_companies(actor, company_ids)
    x = month_start(billing_month)
    # Many companies, on purpose, whatever company the unit of work has in context.
    with uow, across_companies(uow.session):
        session = uow.session
        conn = session.connection()
        report(0.02, "Lendo empresas e faturas já emitidas")
        plan = _read_companies(conn, ids, x, uow.dialect)
        report(0.08, "Lendo coberturas, preços e lançamentos já faturados")
        data = _read_ledger(conn, plan, uow.dialect)
        report(0.35, "Calculando mensalidades, retroativos, diferenças e créditos")
        lines = _priced_lines(session, plan, data)
        report(0.5, "Gravando faturas")
        billed = _write(conn, plan, lines, now, report)
        report(0.97, "Registrando a auditoria")
        _audit(conn, actor, x, billed, now)
        uow.commit()
    report(1.0, "Faturamento concluído")
    plan.skipped.sort(key=lambda s: s.code)
    kinds: dict[str, int] = {}
    kind_totals: dict[str, Decimal] = {}
    for b in billed:
        for k, n in b.kinds.items():
            kinds[k] = kinds.get(k, 0) + n
            kind_totals[k] = kind_totals.get(k, Decimal("0.00")) + b.kind_totals[k]
    return BillingRunResult(
        billing_month=x,
        billed=billed,
        skipped=plan.skipped,
        lines=sum(b.lines for b in billed),
        total=sum((b.amount for b in billed), Decimal("0.00")),
        seconds=perf_counter() - started,
        kinds=kinds,
        kind_totals=kind_totals,
    )
