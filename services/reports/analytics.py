"""Portfolio analysis for account managers: the utilization measures across the
companies they look after, rankings, free comparisons and a pivot builder.

Only account managers reach these services, and only for companies of their own
portfolio (`reports.company_scope`). Every figure is one set-based query; the ranking
is derived from the same overview the headline figures come from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute

from data.models import Beneficiary, Company, Invoice, Plan, Provider, UtilizationEvent
from data.uow import UnitOfWork
from services.actors import Actor
from services.reports.beneficiaries import (
    SEX_LABELS,
    Period,
    UtilizationOverview,
    add_months,
    age_band_expr,
    cents,
    company_scope,
    event_where,
    in_ids,
    invoice_where,
    month_from_key,
    month_key,
    per_head,
    ratio_pct,
    reais,
)
from services.rules.age_bands import age_band_label
from services.rules.errors import DomainError
from services.rules.formats import format_month_numeric

MAX_SERIES = 6


@dataclass(frozen=True)
class PortfolioCompany:
    id: int
    code: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.code} · {self.name}"


def portfolio_companies(*, uow: UnitOfWork, actor: Actor) -> list[PortfolioCompany]:
    """The companies of the account manager's portfolio, by code."""
    if not actor.is_account_manager:
        raise DomainError("A análise da carteira é exclusiva dos gestores de contas.")
    if not actor.company_ids:
        return []
    with uow:
        rows = uow.session.execute(
            select(Company.id, Company.code, Company.trade_name, Company.name)
            .where(Company.id.in_(actor.company_ids))
            .order_by(Company.code)
        ).all()
    return [PortfolioCompany(cid, code, trade or name) for cid, code, trade, name in rows]


# ---------------------------------------------------------------- ranking

LIVES_COLUMNS = ["company_id", "lives_start", "lives_end"]


def portfolio_lives(
    *, uow: UnitOfWork, actor: Actor, period: Period, company_ids: Iterable[int], today: date
) -> pd.DataFrame:
    """Active beneficiaries of each company on the first and on the last day of the
    period (or today, if earlier): one query."""
    ids = company_scope(uow=uow, actor=actor, company_ids=company_ids)
    first = period.start
    last = min(period.end_exclusive - timedelta(days=1), today)
    b = Beneficiary

    def active_on(day: date) -> Any:
        return func.sum(
            case(
                (
                    and_(
                        b.effective_date <= day,
                        (b.exclusion_date.is_(None)) | (b.exclusion_date > day),
                    ),
                    1,
                ),
                else_=0,
            )
        )

    with uow:
        rows = uow.session.execute(
            select(b.company_id, active_on(first), active_on(last))
            .where(in_ids(b.company_id, ids))
            .group_by(b.company_id)
        ).all()
    return pd.DataFrame(
        [(int(c), int(s or 0), int(e or 0)) for c, s, e in rows], columns=LIVES_COLUMNS
    )


RANKING_COLUMNS = [
    "Empresa",
    "Vidas no início",
    "Vidas no fim",
    "Crescimento de vidas (%)",
    "Procedimentos",
    "Custo (R$)",
    "Faturado (R$)",
    "Sinistralidade (%)",
    "Beneficiários atendidos",
    "Custo por beneficiário atendido (R$)",
    "Crescimento do custo (%)",
]


def portfolio_ranking(
    overview: UtilizationOverview, lives: pd.DataFrame, companies: Sequence[PortfolioCompany]
) -> pd.DataFrame:
    """One row per company of the overview: lives and their growth, utilization, loss
    ratio, and the cost growth (the second half of the period's months against the
    first half). Sorted by loss ratio, highest first."""
    months = overview.period.months
    half = len(months) // 2
    first_half, second_half = set(months[:half]), set(months[len(months) - half :])
    usage = overview.usage
    by_company = usage.groupby("company_id")[["procedures", "cost_cents"]].sum()
    early = usage[usage["month"].isin(first_half)].groupby("company_id")["cost_cents"].sum()
    late = usage[usage["month"].isin(second_half)].groupby("company_id")["cost_cents"].sum()
    premiums = overview.premiums.groupby("company_id")["premium_cents"].sum()
    using = overview.using.set_index("company_id")["beneficiaries_using"]
    lives_by = lives.set_index("company_id")
    names = {c.id: c.label for c in companies}
    records = []
    for cid in overview.company_ids:
        n = int(by_company["procedures"].get(cid, 0))
        cost = int(by_company["cost_cents"].get(cid, 0))
        premium = int(premiums.get(cid, 0))
        users = int(using.get(cid, 0))
        start = int(lives_by["lives_start"].get(cid, 0))
        end = int(lives_by["lives_end"].get(cid, 0))
        early_cost = int(early.get(cid, 0))
        late_cost = int(late.get(cid, 0))
        records.append(
            (
                names.get(cid, str(cid)),
                start,
                end,
                _growth(end, start),
                n,
                reais(cost),
                reais(premium),
                ratio_pct(cost, premium),
                users,
                per_head(cost, users),
                _growth(late_cost, early_cost) if half else None,
            )
        )
    df = pd.DataFrame(records, columns=RANKING_COLUMNS)
    return sort_by(df, "Sinistralidade (%)")


def _growth(new: int, old: int) -> Decimal | None:
    return ratio_pct(new - old, old)


def sort_by(df: pd.DataFrame, column: str, *, descending: bool = True) -> pd.DataFrame:
    """Rows ordered by `column`, empty values last, ties in their original order."""
    values = list(df[column])
    filled = [i for i, v in enumerate(values) if v is not None and v == v]
    empty = [i for i, v in enumerate(values) if not (v is not None and v == v)]
    filled.sort(key=lambda i: values[i], reverse=descending)
    return df.iloc[filled + empty].reset_index(drop=True)


# ---------------------------------------------------------------- comparison


@dataclass(frozen=True)
class CompareSeries:
    """One side of a comparison: some companies over a period."""

    label: str
    company_ids: tuple[int, ...]
    period: Period


COMPARE_COLUMNS = [
    "Série",
    "Período",
    "Procedimentos",
    "Custo (R$)",
    "Beneficiários atendidos",
    "Custo por beneficiário atendido (R$)",
    "Faturado (R$)",
    "Sinistralidade (%)",
]


def utilization_compare(
    *, uow: UnitOfWork, actor: Actor, series: Sequence[CompareSeries]
) -> pd.DataFrame:
    """The measures of two or more companies or periods side by side: one query (a
    UNION ALL with one branch per series)."""
    if len(series) < 2:
        raise DomainError(
            "Escolha ao menos duas empresas ou dois períodos para comparar.", "series"
        )
    if len(series) > MAX_SERIES:
        raise DomainError(f"Compare no máximo {MAX_SERIES} séries de cada vez.", "series")
    scoped = [company_scope(uow=uow, actor=actor, company_ids=s.company_ids) for s in series]
    u, i = UtilizationEvent, Invoice
    branches = []
    for k, (s, ids) in enumerate(zip(series, scoped, strict=True)):
        branches.append(
            select(
                literal(k).label("k"),
                func.count().label("n"),
                func.coalesce(func.sum(cents(u.amount)), 0).label("cost"),
                func.count(func.distinct(u.beneficiary_id)).label("using"),
                literal(0).label("premium"),
            ).where(*event_where(ids, s.period))
        )
        branches.append(
            select(
                literal(k).label("k"),
                literal(0).label("n"),
                literal(0).label("cost"),
                literal(0).label("using"),
                func.coalesce(func.sum(cents(i.amount)), 0).label("premium"),
            ).where(*invoice_where(ids, s.period))
        )
    both = union_all(*branches).subquery()
    with uow:
        rows = uow.session.execute(
            select(
                both.c.k,
                func.sum(both.c.n),
                func.sum(both.c.cost),
                func.sum(both.c.using),
                func.sum(both.c.premium),
            ).group_by(both.c.k)
        ).all()
    found = {
        int(k): (int(n or 0), int(c or 0), int(us or 0), int(p or 0)) for k, n, c, us, p in rows
    }
    records = []
    for k, s in enumerate(series):
        n, cost, users, premium = found.get(k, (0, 0, 0, 0))
        records.append(
            (
                s.label,
                _period_label(s.period),
                n,
                reais(cost),
                users,
                per_head(cost, users),
                reais(premium),
                ratio_pct(cost, premium),
            )
        )
    return pd.DataFrame(records, columns=COMPARE_COLUMNS)


def _period_label(period: Period) -> str:
    return f"{format_month_numeric(period.first_month)} a {format_month_numeric(period.last_month)}"


# ---------------------------------------------------------------- pivot

DIMENSIONS: dict[str, str] = {
    "company": "Empresa",
    "month": "Mês",
    "group": "Grupo de procedimento",
    "procedure": "Procedimento (TUSS)",
    "provider": "Prestador",
    "provider_state": "UF do prestador",
    "plan": "Plano",
    "kind": "Titular ou dependente",
    "sex": "Sexo",
    "age_band": "Faixa etária",
}
MEASURES: dict[str, str] = {
    "cost": "Custo (R$)",
    "procedures": "Procedimentos",
    "using": "Beneficiários atendidos",
    "cost_per_beneficiary": "Custo por beneficiário atendido (R$)",
    "loss_ratio": "Sinistralidade (%)",
}
# Premiums are billed by company and month only: the loss ratio can be opened by those,
# and by what a procedure is (its share of the same premiums), not by who used it.
LOSS_RATIO_DIMENSIONS = frozenset({"company", "month", "group", "procedure"})
_PREMIUM_KEYS = ("company", "month")
_NEEDS_BENEFICIARY = frozenset({"plan", "kind", "sex", "age_band"})
_NEEDS_PROVIDER = frozenset({"provider", "provider_state"})
_NEEDS_DISTINCT = frozenset({"using", "cost_per_beneficiary"})
_DAILY_DIMENSIONS = frozenset({"company", "month", "group"})


@dataclass(frozen=True)
class PivotRequest:
    rows: str
    measure: str
    columns: str | None = None
    period: Period | None = None
    company_ids: tuple[int, ...] = ()
    groups: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class PivotResult:
    """The pivot as a long list (one row per cell) and as a table (rows x columns)."""

    request: PivotRequest
    long: pd.DataFrame
    table: pd.DataFrame
    row_label: str
    column_label: str | None
    measure_label: str


def _check_pivot(req: PivotRequest) -> list[str]:
    if req.rows not in DIMENSIONS:
        raise DomainError("Escolha o que vai nas linhas.", "rows")
    if req.columns is not None and req.columns not in DIMENSIONS:
        raise DomainError("Escolha o que vai nas colunas.", "columns")
    if req.columns == req.rows:
        raise DomainError("Linhas e colunas precisam ser dimensões diferentes.", "columns")
    if req.measure not in MEASURES:
        raise DomainError("Escolha a medida.", "measure")
    if req.period is None:
        raise DomainError("Escolha o período.", "period")
    dims = [req.rows] + ([req.columns] if req.columns else [])
    if req.measure == "loss_ratio" and not set(dims) <= LOSS_RATIO_DIMENSIONS:
        raise DomainError(
            "A sinistralidade só pode ser aberta por empresa, mês, grupo de procedimento "
            "ou procedimento: o faturamento é por empresa e mês.",
            "measure",
        )
    return dims


def utilization_pivot(*, uow: UnitOfWork, actor: Actor, request: PivotRequest) -> PivotResult:
    """A measure of the portfolio's utilization broken down by one or two dimensions,
    with the chosen filters: one query."""
    dims = _check_pivot(request)
    period = request.period
    assert period is not None
    ids = company_scope(uow=uow, actor=actor, company_ids=request.company_ids)
    with uow:
        u, b, p, pl = UtilizationEvent, Beneficiary, Provider, Plan
        last_day = period.end_exclusive - timedelta(days=1)
        exprs: dict[str, ColumnElement[Any] | InstrumentedAttribute[Any]] = {
            "company": u.company_id,
            "month": month_key(u.event_date, uow.dialect),
            "group": u.procedure_group,
            "procedure": u.tuss_code + literal(" · ") + u.procedure_name,
            "provider": p.name,
            "provider_state": p.state,
            "plan": pl.name,
            "kind": case((b.relationship_code == 1, "Titular"), else_="Dependente"),
            "sex": b.sex,
            "age_band": age_band_expr(b.birth_date, last_day),
        }
        names = [f"d{k}" for k in range(len(dims))]
        needs_using = request.measure in _NEEDS_DISTINCT
        if not needs_using and set(dims) <= _DAILY_DIMENSIONS:
            # Sums only, by what the (company, date, group) index holds: grouped in
            # index order first, so no sort of the events (as the overview does).
            daily = (
                select(
                    u.company_id.label("cid"),
                    u.event_date.label("day"),
                    u.procedure_group.label("grp"),
                    func.count().label("n"),
                    func.sum(cents(u.amount)).label("cost"),
                )
                .where(*event_where(ids, period, groups=request.groups))
                .group_by(u.company_id, u.event_date, u.procedure_group)
                .subquery()
            )
            dexprs: dict[str, ColumnElement[Any]] = {
                "company": daily.c.cid,
                "month": month_key(daily.c.day, uow.dialect),
                "group": daily.c.grp,
            }
            agg = select(
                *[dexprs[d].label(n) for d, n in zip(dims, names, strict=True)],
                func.sum(daily.c.n).label("n"),
                func.sum(daily.c.cost).label("cost"),
                literal(0).label("using"),
            ).group_by(*[dexprs[d] for d in dims])
        else:
            inner = select(
                *[exprs[d].label(n) for d, n in zip(dims, names, strict=True)],
                cents(u.amount).label("amount"),
                u.beneficiary_id.label("bid"),
            ).select_from(u)
            if set(dims) & _NEEDS_PROVIDER:
                inner = inner.join(p, p.id == u.provider_id)
            if set(dims) & _NEEDS_BENEFICIARY:
                inner = inner.join(b, b.id == u.beneficiary_id)
                if "plan" in dims:
                    inner = inner.join(pl, pl.id == b.plan_id)
            inner_sq = inner.where(*event_where(ids, period, groups=request.groups)).subquery()
            keys = [inner_sq.c[n] for n in names]
            using = func.count(func.distinct(inner_sq.c.bid)) if needs_using else literal(0)
            agg = select(
                *keys,
                func.count().label("n"),
                func.sum(inner_sq.c.amount).label("cost"),
                using.label("using"),
            ).group_by(*keys)
        premium_dims = [d for d in dims if d in _PREMIUM_KEYS]
        if request.measure == "loss_ratio":
            agg_sq = agg.subquery()
            i = Invoice
            pexprs = {"company": i.company_id, "month": month_key(i.billing_month, uow.dialect)}
            prem: Select[*tuple[Any, ...]] = select(
                *[pexprs[d].label(d) for d in premium_dims],
                func.sum(cents(i.amount)).label("premium"),
            ).where(*invoice_where(ids, period))
            if premium_dims:
                prem = prem.group_by(*[pexprs[d] for d in premium_dims])
            prem_sq = prem.subquery()
            on = [agg_sq.c[names[dims.index(d)]] == prem_sq.c[d] for d in premium_dims]
            stmt = (
                select(
                    *[agg_sq.c[n] for n in names],
                    agg_sq.c.n,
                    agg_sq.c.cost,
                    agg_sq.c.using,
                    prem_sq.c.premium,
                )
                .select_from(agg_sq)
                .outerjoin(prem_sq, and_(*on) if on else true())
            )
            rows = uow.session.execute(stmt).all()
        else:
            rows = [(*r, None) for r in uow.session.execute(agg).all()]
        company_labels = {}
        if "company" in dims:
            company_labels = {
                cid: f"{code} · {trade or name}"
                for cid, code, trade, name in uow.session.execute(
                    select(Company.id, Company.code, Company.trade_name, Company.name).where(
                        Company.id.in_(ids)
                    )
                )
            }
    return _pivot_frames(request, dims, rows, company_labels)


def _dim_value(dim: str, raw: Any, company_labels: dict[int, str]) -> tuple[Any, str]:
    """(sort key, label) of a dimension value."""
    if raw is None:
        return (1, ""), "—"
    if dim == "company":
        label = company_labels.get(int(raw), str(raw))
        return (0, label), label
    if dim == "month":
        month = month_from_key(str(raw))
        return (0, month.isoformat()), format_month_numeric(month)
    if dim == "age_band":
        return (0, int(raw)), age_band_label(int(raw))
    if dim == "sex":
        return (0, str(raw)), SEX_LABELS.get(str(raw), str(raw))
    return (0, str(raw)), str(raw)


def _measure_value(measure: str, n: int, cost: int, using: int, premium: Any) -> Any:
    if measure == "cost":
        return reais(cost)
    if measure == "procedures":
        return n
    if measure == "using":
        return using
    if measure == "cost_per_beneficiary":
        return per_head(cost, using)
    return ratio_pct(cost, premium)


def _pivot_frames(
    req: PivotRequest, dims: list[str], rows: Sequence[Any], company_labels: dict[int, str]
) -> PivotResult:
    row_label = DIMENSIONS[req.rows]
    col_label = DIMENSIONS[req.columns] if req.columns else None
    measure_label = MEASURES[req.measure]
    cells = []
    row_keys: dict[str, Any] = {}
    col_keys: dict[str, Any] = {}
    for r in rows:
        values = list(r[: len(dims)])
        n, cost, using, premium = r[len(dims) :]
        rk, rl = _dim_value(dims[0], values[0], company_labels)
        row_keys[rl] = rk
        cl = ""
        if len(dims) > 1:
            ck, cl = _dim_value(dims[1], values[1], company_labels)
            col_keys[cl] = ck
        value = _measure_value(req.measure, int(n or 0), int(cost or 0), int(using or 0), premium)
        cells.append((rl, cl, value))
    row_order = sorted(row_keys, key=lambda k: row_keys[k])
    col_order = sorted(col_keys, key=lambda k: col_keys[k])
    rank = {label: i for i, label in enumerate(row_order)}
    crank = {label: i for i, label in enumerate(col_order)}
    cells.sort(key=lambda c: (rank[c[0]], crank.get(c[1], 0)))
    if col_label:
        long = pd.DataFrame(cells, columns=[row_label, col_label, measure_label])
        grid: dict[str, dict[str, Any]] = {rl: {} for rl in row_order}
        for rl, cl, value in cells:
            grid[rl][cl] = value
        table = pd.DataFrame(
            [[rl, *[grid[rl].get(cl) for cl in col_order]] for rl in row_order],
            columns=[row_label, *col_order],
        )
    else:
        long = pd.DataFrame([(rl, v) for rl, _, v in cells], columns=[row_label, measure_label])
        table = long.copy()
    return PivotResult(req, long, table, row_label, col_label, measure_label)


def default_compare_periods(today: date, months: int = 6) -> tuple[Period, Period]:
    """The last `months` whole months and the same months a year before."""
    recent = Period.last(months, today=today)
    before = Period(add_months(recent.first_month, -12), add_months(recent.last_month, -12))
    return before, recent
