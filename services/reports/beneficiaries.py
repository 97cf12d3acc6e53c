"""Reports: active and inactive beneficiaries, and utilization ("Utilização").

Every figure is one set-based query (an SQL aggregation, or one query into pandas):
never one query per row. Money is integer cents in the database; sums come back in
cents and are turned into `Decimal` reais here, so the screen and the download show
the same numbers. The loss ratio ("sinistralidade") is the utilization cost divided
by the billed amount of the invoices of the same months (cancelled invoices excluded).

Company scope: a report reads the company in context (`uow.company_id`) after
`actor.require(Permission.REPORTS, ...)`; the account manager's portfolio passes
`company_ids`, each of which must be in the actor's portfolio. Filters only narrow
that scope further. CPF and birth date come masked unless the actor holds
`Permission.PERSONAL_DATA` (LGPD, Lei 13.709/2018), so exports inherit the rule.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Subquery,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from data.models import (
    Beneficiary,
    ContractedPlan,
    Invoice,
    Movement,
    Plan,
    Provider,
    UtilizationEvent,
)
from data.uow import UnitOfWork
from services.actors import Actor, Permission
from services.cost_centres import cost_centre_labels, effective_cost_centre_id
from services.lgpd import personal_data_listing_record
from services.rules.age_bands import AGE_BANDS, age_band_label
from services.rules.cost_centres import NO_COST_CENTRE, NO_COST_CENTRE_LABEL
from services.rules.documents import only_digits
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError
from services.rules.formats import format_card, format_cpf, mask_cpf
from services.rules.movements import EXCLUSION_REASONS

ACTIVE = "active"
INACTIVE = "inactive"
STATUSES = (ACTIVE, INACTIVE)
STATUS_WORDS = {ACTIVE: "ativos", INACTIVE: "inativos"}
MASKED_DATE = "**/**/****"
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
SEX_LABELS = {"M": "Masculino", "F": "Feminino"}
FLOW_MONTHS = 12
MAX_TOP = 500

# ---------------------------------------------------------------- shared helpers


def month_start(d: date) -> date:
    return date(d.year, d.month, 1)


def add_months(d: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `d`."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def years_before(d: date, years: int) -> date:
    """The same day `years` earlier; Feb 29 becomes Feb 28 in a common year."""
    year = d.year - years
    day = min(d.day, calendar.monthrange(year, d.month)[1])
    return date(year, d.month, day)


def report_months(*, today: date, count: int = 24) -> list[date]:
    """The months a report can show, oldest first, ending in the month of `today`."""
    last = month_start(today)
    return [add_months(last, -n) for n in range(count - 1, -1, -1)]


@dataclass(frozen=True)
class Period:
    """Whole months, from `first_month` to `last_month` inclusive."""

    first_month: date
    last_month: date

    def __post_init__(self) -> None:
        if self.first_month.day != 1 or self.last_month.day != 1:
            raise DomainError("O período começa e termina em meses inteiros.", "period")
        if self.first_month > self.last_month:
            raise DomainError("O mês inicial deve ser anterior ou igual ao final.", "period")

    @property
    def start(self) -> date:
        return self.first_month

    @property
    def end_exclusive(self) -> date:
        return add_months(self.last_month, 1)

    @property
    def months(self) -> list[date]:
        out, current = [], self.first_month
        while current <= self.last_month:
            out.append(current)
            current = add_months(current, 1)
        return out

    @classmethod
    def last(cls, months: int, *, today: date, include_current: bool = False) -> Period:
        """The last `months` months, ending last month (or this month)."""
        last = month_start(today) if include_current else add_months(today, -1)
        return cls(add_months(last, -(months - 1)), last)


def reais(cents: Any) -> Decimal:
    """Integer cents (an SQL sum) as Decimal reais with 2 places."""
    return Decimal(int(cents or 0)).scaleb(-2).quantize(CENT)


def ratio_pct(numerator_cents: Any, denominator_cents: Any) -> Decimal | None:
    """numerator / denominator in percent, 2 places; None without a denominator."""
    den = int(denominator_cents or 0)
    if den == 0:
        return None
    return (Decimal(int(numerator_cents or 0)) * HUNDRED / Decimal(den)).quantize(CENT)


def per_head(cents: Any, heads: Any) -> Decimal | None:
    """Cents divided by a head count, as Decimal reais; None without heads."""
    n = int(heads or 0)
    if n == 0:
        return None
    return (Decimal(int(cents or 0)) / Decimal(n) / HUNDRED).quantize(CENT)


def cents(column: Any) -> ColumnElement[int]:
    """A money column read as its stored integer cents (sums stay exact integers)."""
    return type_coerce(column, BigInteger)


def month_key(column: Any, dialect: str) -> ColumnElement[str]:
    """'YYYY-MM' of a date column; literal arguments so GROUP BY repeats it verbatim."""
    if dialect == "postgresql":
        return func.to_char(column, literal_column("'YYYY-MM'"))
    return func.substr(column, literal_column("1"), literal_column("7"))


def month_from_key(key: str) -> date:
    return date(int(key[:4]), int(key[5:7]), 1)


def in_ids(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    return column == ids[0] if len(ids) == 1 else column.in_(ids)


def company_scope(
    *, uow: UnitOfWork, actor: Actor, company_ids: Iterable[int] | None = None
) -> tuple[int, ...]:
    """The companies a report may read: the one in context, or (account managers only)
    the chosen companies of the portfolio. Anything else is refused."""
    if company_ids is None:
        actor.require(Permission.REPORTS, uow.company_id)
        return (uow.require_company(),)
    if not actor.is_account_manager:
        raise DomainError("A análise da carteira é exclusiva dos gestores de contas.")
    ids = tuple(sorted(set(company_ids)))
    if not ids:
        raise DomainError("Escolha ao menos uma empresa.", "companies")
    for company_id in ids:
        actor.require(Permission.REPORTS, company_id)
    return ids


def _show_cpf(cpf: str | None, full: bool) -> str:
    """The CPF formatted, or masked (LGPD) unless `full`."""
    return format_cpf(cpf) if full else mask_cpf(cpf)


def _show_card(card: str) -> str:
    """The card number in groups of four."""
    return format_card(card)


def _as_date(value: Any) -> date | None:
    """A date read as text (SQLite) or as a date (PostgreSQL)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


# ---------------------------------------------------------------- beneficiaries


@dataclass(frozen=True)
class BeneficiaryFilters:
    """What narrows a beneficiary report; empty means "all"."""

    plan_ids: tuple[int, ...] = ()
    holders: bool | None = None  # True: holders only; False: dependents only
    relationships: tuple[int, ...] = ()
    age_bands: tuple[int, ...] = ()
    effective_from: date | None = None
    effective_to: date | None = None
    exclusion_from: date | None = None
    exclusion_to: date | None = None
    exclusion_reasons: tuple[str, ...] = ()
    search: str = ""
    # Cost centres (a dependent is in its holder's); NO_COST_CENTRE: holders without one.
    cost_centre_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class BeneficiaryOptions:
    """The values each beneficiary filter can take, with their labels."""

    plans: dict[int, str]
    relationships: dict[int, str]
    age_bands: dict[int, str]
    exclusion_reasons: dict[str, str]
    # Empty when the company keeps no cost centres (the filter is not shown).
    cost_centres: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BeneficiaryReport:
    """Totals, chart data and the (masked unless allowed) list of one report."""

    status: str
    today: date
    total: int
    holders: int
    dependents: int
    personal_data: bool
    table: pd.DataFrame
    by_plan: pd.DataFrame
    pyramid: pd.DataFrame
    by_relationship: pd.DataFrame
    flow: pd.DataFrame


BENEFICIARY_COLUMNS = [
    "Nome",
    "Carteirinha",
    "CPF",
    "Nascimento",
    "Sexo",
    "Faixa etária",
    "Parentesco",
    "Nome do titular",
    "Plano",
    "Início de vigência",
    "Centro de custo",
]
INACTIVE_COLUMNS = ["Exclusão", "Motivo da exclusão"]


def beneficiary_options(*, uow: UnitOfWork, actor: Actor) -> BeneficiaryOptions:
    """The plans contracted by the company in context, and the fixed lists."""
    (company_id,) = company_scope(uow=uow, actor=actor)
    with uow:
        plans = uow.session.execute(
            select(Plan.id, Plan.name)
            .join(ContractedPlan, ContractedPlan.plan_id == Plan.id)
            .where(ContractedPlan.company_id == company_id)
            .order_by(Plan.name)
        ).all()
        centres = cost_centre_labels(uow.session, company_id)
    return BeneficiaryOptions(
        plans={pid: name for pid, name in plans},
        relationships={r.value: r.label for r in Relationship},
        age_bands={band: age_band_label(band) for band in range(1, len(AGE_BANDS) + 1)},
        exclusion_reasons=dict(EXCLUSION_REASONS),
        cost_centres={**centres, NO_COST_CENTRE: NO_COST_CENTRE_LABEL} if centres else {},
    )


def age_band_expr(birth: Any, today: date) -> ColumnElement[int]:
    """The RN 63/2003 band (1-10) of a birth date column on `today`, in SQL."""
    whens = [
        (birth > years_before(today, upper + 1), band)
        for band, (_, upper) in enumerate(AGE_BANDS, start=1)
        if upper is not None
    ]
    return case(*whens, else_=len(AGE_BANDS))


def _age_band_where(birth: Any, bands: Sequence[int], today: date) -> ColumnElement[bool]:
    parts = []
    for band in sorted(set(bands)):
        if not 1 <= band <= len(AGE_BANDS):
            raise DomainError("Faixa etária inexistente.", "age_bands")
        lower, upper = AGE_BANDS[band - 1]
        cond = birth <= years_before(today, lower)
        if upper is not None:
            cond = and_(cond, birth > years_before(today, upper + 1))
        parts.append(cond)
    return or_(*parts)


def _beneficiary_where(
    company_id: int, status: str | None, f: BeneficiaryFilters, today: date
) -> list[ColumnElement[bool]]:
    b = Beneficiary
    where: list[ColumnElement[bool]] = [b.company_id == company_id]
    if status is not None:
        where.append(b.status == status)
    if f.plan_ids:
        where.append(b.plan_id.in_(f.plan_ids))
    if f.holders is True:
        where.append(b.relationship_code == Relationship.HOLDER.value)
    elif f.holders is False:
        where.append(b.relationship_code != Relationship.HOLDER.value)
    if f.relationships:
        where.append(b.relationship_code.in_(f.relationships))
    if f.age_bands:
        where.append(_age_band_where(b.birth_date, f.age_bands, today))
    if f.effective_from:
        where.append(b.effective_date >= f.effective_from)
    if f.effective_to:
        where.append(b.effective_date <= f.effective_to)
    if f.exclusion_from:
        where.append(b.exclusion_date >= f.exclusion_from)
    if f.exclusion_to:
        where.append(b.exclusion_date <= f.exclusion_to)
    if f.exclusion_reasons:
        where.append(b.exclusion_reason.in_(f.exclusion_reasons))
    if f.cost_centre_ids:
        centre = effective_cost_centre_id(b)
        chosen = [i for i in f.cost_centre_ids if i != NO_COST_CENTRE]
        parts: list[ColumnElement[bool]] = [centre.in_(chosen)] if chosen else []
        if NO_COST_CENTRE in f.cost_centre_ids:
            parts.append(centre.is_(None))
        where.append(or_(*parts))
    term = f.search.strip()
    if term:
        # Names are stored as typed; SQLite's lower() and upper() change ASCII letters only,
        # so both are tried ("joão" finds "João", "JOÃO" finds "João" and "JOÃO").
        conds = [
            func.lower(b.name).contains(term.lower(), autoescape=True),
            func.upper(b.name).contains(term.upper(), autoescape=True),
            b.name.contains(term, autoescape=True),
        ]
        digits = only_digits(term)
        if len(digits) >= 4:
            conds.append(b.card_number.contains(digits, autoescape=True))
        where.append(or_(*conds))
    return where


def _check_filters(f: BeneficiaryFilters) -> None:
    if f.effective_from and f.effective_to and f.effective_from > f.effective_to:
        raise DomainError(
            "A data inicial do início de vigência deve ser anterior à final.", "effective"
        )
    if f.exclusion_from and f.exclusion_to and f.exclusion_from > f.exclusion_to:
        raise DomainError("A data inicial da exclusão deve ser anterior à final.", "exclusion")


def beneficiary_report(
    *, uow: UnitOfWork, actor: Actor, status: str, filters: BeneficiaryFilters, today: date
) -> BeneficiaryReport:
    """The active (or inactive) beneficiaries of the company in context that match the
    filters: totals, charts and the list, with CPF and birth date masked unless allowed."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    (company_id,) = company_scope(uow=uow, actor=actor)
    _check_filters(filters)
    full = actor.can(Permission.PERSONAL_DATA)
    b = Beneficiary
    where = _beneficiary_where(company_id, status, filters, today)
    holder = aliased(Beneficiary)
    with uow:
        s = uow.session
        total, holders = s.execute(
            select(
                func.count(),
                func.coalesce(
                    func.sum(case((b.relationship_code == Relationship.HOLDER.value, 1), else_=0)),
                    0,
                ),
            ).where(*where)
        ).one()
        # Dates as text: SQLite's date parsing per row costs more than the query.
        columns: list[Any] = [
            b.name,
            b.card_number,
            b.cpf,
            type_coerce(b.birth_date, String),
            b.sex,
            age_band_expr(b.birth_date, today),
            b.relationship_code,
            holder.name,
            Plan.name,
            type_coerce(b.effective_date, String),
            type_coerce(b.exclusion_date, String),
            b.exclusion_reason,
            effective_cost_centre_id(b),
        ]
        rows = (
            s.connection()
            .execute(
                select(*columns)
                .join(Plan, Plan.id == b.plan_id)
                .outerjoin(holder, holder.id == b.holder_id)
                .where(*where)
                .order_by(b.name, b.card_number)
            )
            .all()
        )
        by_plan = s.execute(
            select(Plan.name, func.count())
            .select_from(b)
            .join(Plan, Plan.id == b.plan_id)
            .where(*where)
            .group_by(Plan.name)
            .order_by(func.count().desc(), Plan.name)
        ).all()
        banded = (
            select(age_band_expr(b.birth_date, today).label("band"), b.sex.label("sex"))
            .where(*where)
            .subquery()
        )
        pyramid = s.execute(
            select(banded.c.band, banded.c.sex, func.count()).group_by(banded.c.band, banded.c.sex)
        ).all()
        by_relationship = s.execute(
            select(b.relationship_code, func.count()).where(*where).group_by(b.relationship_code)
        ).all()
        flow = _flow(s, company_id, filters, today, uow.dialect)
        centres = cost_centre_labels(s, company_id)

    relationship_labels = {r.value: r.label for r in Relationship}
    band_labels = {band: age_band_label(band) for band in range(1, len(AGE_BANDS) + 1)}
    records = []
    for (
        name,
        card,
        cpf,
        birth,
        sex,
        band,
        rel,
        holder_name,
        plan,
        effective,
        exclusion,
        reason,
        centre_id,
    ) in rows:
        record = [
            name,
            _show_card(card),
            _show_cpf(cpf, full),
            _as_date(birth) if full else MASKED_DATE,
            SEX_LABELS.get(sex, sex),
            band_labels[int(band)],
            relationship_labels.get(rel, str(rel)),
            holder_name or "",
            plan,
            _as_date(effective),
            centres.get(centre_id, "") if centre_id is not None else "",
        ]
        if status == INACTIVE:
            record += [_as_date(exclusion), EXCLUSION_REASONS.get(reason or "", reason or "")]
        records.append(record)
    table_columns = BENEFICIARY_COLUMNS + (INACTIVE_COLUMNS if status == INACTIVE else [])
    table = pd.DataFrame(records, columns=table_columns)

    pyramid_df = pd.DataFrame(
        [
            (band, age_band_label(band), SEX_LABELS[sex], count)
            for band in range(1, len(AGE_BANDS) + 1)
            for sex in ("M", "F")
            for count in [sum(n for bb, ss, n in pyramid if int(bb) == band and ss == sex)]
        ],
        columns=["Faixa", "Faixa etária", "Sexo", "Beneficiários"],
    )
    rel_df = pd.DataFrame(
        [
            (
                relationship_labels.get(code, str(code)),
                "Titular" if code == Relationship.HOLDER.value else "Dependente",
                count,
            )
            for code, count in sorted(by_relationship)
        ],
        columns=["Parentesco", "Tipo", "Beneficiários"],
    )
    if full and total:
        personal_data_listing_record(
            uow=uow.for_company(company_id),
            actor=actor,
            purpose="listagem",
            detail=f"Beneficiários {STATUS_WORDS.get(status, status)}: {int(total)} linha(s) "
            "com CPF e nascimento completos",
            now=datetime.now(UTC),
        )
    return BeneficiaryReport(
        status=status,
        today=today,
        total=int(total),
        holders=int(holders),
        dependents=int(total) - int(holders),
        personal_data=full,
        table=table,
        by_plan=pd.DataFrame(by_plan, columns=["Plano", "Beneficiários"]),
        pyramid=pyramid_df,
        by_relationship=rel_df,
        flow=flow,
    )


def _flow(
    s: Any, company_id: int, f: BeneficiaryFilters, today: date, dialect: str
) -> pd.DataFrame:
    """Inclusions (effective date) and exclusions by month of the last 12 months, of every
    beneficiary matching the filters whatever the status: one UNION ALL query."""
    b = Beneficiary
    first = add_months(today, -(FLOW_MONTHS - 1))
    end = add_months(today, 1)
    where = _beneficiary_where(company_id, None, f, today)
    inc_month = month_key(b.effective_date, dialect)
    exc_month = month_key(b.exclusion_date, dialect)
    inclusions = (
        select(inc_month.label("month"), func.count().label("inc"), literal(0).label("exc"))
        .where(*where, b.effective_date >= first, b.effective_date < end)
        .group_by(inc_month)
    )
    exclusions = (
        select(exc_month.label("month"), literal(0).label("inc"), func.count().label("exc"))
        .where(*where, b.exclusion_date >= first, b.exclusion_date < end)
        .group_by(exc_month)
    )
    both = union_all(inclusions, exclusions).subquery()
    rows = s.execute(
        select(both.c.month, func.sum(both.c.inc), func.sum(both.c.exc)).group_by(both.c.month)
    ).all()
    found = {month_from_key(m): (int(i or 0), int(e or 0)) for m, i, e in rows}
    months = [add_months(first, n) for n in range(FLOW_MONTHS)]
    return pd.DataFrame(
        [(m, *found.get(m, (0, 0))) for m in months],
        columns=["Mês", "Inclusões", "Exclusões"],
    )


# ---------------------------------------------------------------- utilization


@dataclass(frozen=True)
class UtilizationSelection:
    """What a click on a chart narrows the other figures to."""

    month: date | None = None
    procedure_group: str | None = None
    tuss_code: str | None = None


@dataclass(frozen=True)
class UtilizationSummary:
    """The headline figures of a period."""

    procedures: int
    cost: Decimal
    beneficiaries_using: int
    premiums: Decimal
    loss_ratio: Decimal | None  # percent
    cost_per_beneficiary: Decimal | None


USAGE_COLUMNS = ["company_id", "month", "group", "procedures", "cost_cents"]
PREMIUM_COLUMNS = ["company_id", "month", "premium_cents"]
USING_COLUMNS = ["company_id", "beneficiaries_using"]
MONTH_COLUMNS = ["Mês", "Procedimentos", "Custo (R$)", "Faturado (R$)", "Sinistralidade (%)"]
GROUP_COLUMNS = ["Grupo", "Procedimentos", "Custo (R$)", "Participação (%)"]


@dataclass(frozen=True)
class UtilizationOverview:
    """Utilization of a period at the grain (company, month, procedure group), the
    premiums billed by (company, month) and the beneficiaries who used the plan by
    company: three queries from which the headline figures, the months, the groups and
    the companies are all derived, so every figure adds up to the same totals."""

    period: Period
    company_ids: tuple[int, ...]
    usage: pd.DataFrame
    premiums: pd.DataFrame
    using: pd.DataFrame

    def summary(self) -> UtilizationSummary:
        cost = int(self.usage["cost_cents"].sum())
        premium = int(self.premiums["premium_cents"].sum())
        using = int(self.using["beneficiaries_using"].sum())
        return UtilizationSummary(
            procedures=int(self.usage["procedures"].sum()),
            cost=reais(cost),
            beneficiaries_using=using,
            premiums=reais(premium),
            loss_ratio=ratio_pct(cost, premium),
            cost_per_beneficiary=per_head(cost, using),
        )

    def by_month(self) -> pd.DataFrame:
        """Procedures, cost, premiums billed and loss ratio of every month of the period."""
        used = self.usage.groupby("month")[["procedures", "cost_cents"]].sum()
        billed = self.premiums.groupby("month")["premium_cents"].sum()
        records = []
        for month in self.period.months:
            n = int(used["procedures"].get(month, 0))
            cost = int(used["cost_cents"].get(month, 0))
            premium = int(billed.get(month, 0))
            records.append((month, n, reais(cost), reais(premium), ratio_pct(cost, premium)))
        return pd.DataFrame(records, columns=MONTH_COLUMNS)

    def by_group(self, month: date | None = None) -> pd.DataFrame:
        """Procedures and cost by procedure group (of one month, if given), costliest first."""
        usage = self.usage if month is None else self.usage[self.usage["month"] == month]
        grouped = usage.groupby("group")[["procedures", "cost_cents"]].sum()
        total = int(grouped["cost_cents"].sum())
        rows = sorted(
            ((str(g), int(r.procedures), int(r.cost_cents)) for g, r in grouped.iterrows()),
            key=lambda r: (-r[2], r[0]),
        )
        return pd.DataFrame(
            [(g, n, reais(c), ratio_pct(c, total)) for g, n, c in rows], columns=GROUP_COLUMNS
        )


def event_where(
    ids: Sequence[int],
    period: Period,
    selection: UtilizationSelection | None = None,
    groups: Sequence[str] = (),
) -> list[ColumnElement[bool]]:
    u = UtilizationEvent
    where = [
        in_ids(u.company_id, ids),
        u.event_date >= period.start,
        u.event_date < period.end_exclusive,
    ]
    sel = selection or UtilizationSelection()
    if sel.month is not None:
        where += [u.event_date >= month_start(sel.month), u.event_date < add_months(sel.month, 1)]
    if sel.procedure_group:
        where.append(u.procedure_group == sel.procedure_group)
    if sel.tuss_code:
        where.append(u.tuss_code == sel.tuss_code)
    if groups:
        where.append(u.procedure_group.in_(tuple(groups)))
    return where


def invoice_where(ids: Sequence[int], period: Period) -> list[ColumnElement[bool]]:
    i = Invoice
    return [
        in_ids(i.company_id, ids),
        i.billing_month >= period.start,
        i.billing_month < period.end_exclusive,
        i.status != "cancelled",
    ]


def usage_query(
    ids: Sequence[int], period: Period, dialect: str, groups: Sequence[str] = ()
) -> Select[Any]:
    """(company, month, group, procedures, cost cents). The inner grouping follows the
    order of the (company, date, group, ...) index, so no sort of the events is needed."""
    u = UtilizationEvent
    daily = (
        select(
            u.company_id.label("cid"),
            u.event_date.label("day"),
            u.procedure_group.label("grp"),
            func.count().label("n"),
            func.sum(cents(u.amount)).label("cost"),
        )
        .where(*event_where(ids, period, groups=groups))
        .group_by(u.company_id, u.event_date, u.procedure_group)
        .subquery()
    )
    month = month_key(daily.c.day, dialect)
    return select(
        daily.c.cid, month.label("month"), daily.c.grp, func.sum(daily.c.n), func.sum(daily.c.cost)
    ).group_by(daily.c.cid, month, daily.c.grp)


def premiums_query(ids: Sequence[int], period: Period, dialect: str) -> Select[int, str, int]:
    """(company, month, premium cents) of the invoices billed in the period."""
    i = Invoice
    month = month_key(i.billing_month, dialect)
    return (
        select(i.company_id, month.label("month"), func.sum(cents(i.amount)))
        .where(*invoice_where(ids, period))
        .group_by(i.company_id, month)
    )


def using_query(ids: Sequence[int], period: Period, dialect: str) -> Select[Any]:
    """(company, beneficiaries with at least one procedure in the period): the distinct
    beneficiaries of each company's events.

    PostgreSQL groups the (company, beneficiary, date) index in order. On SQLite the same
    count is driven by the people who can have events: the company's beneficiaries,
    plus those transferred out of it (their old events keep the old company), each one
    index probe, which costs about half of reading every event of a portfolio.
    """
    u = UtilizationEvent
    if dialect == "postgresql":
        pairs = (
            select(u.company_id.label("cid"), u.beneficiary_id.label("bid"))
            .where(*event_where(ids, period))
            .group_by(u.company_id, u.beneficiary_id)
            .subquery()
        )
        return select(pairs.c.cid, func.count()).group_by(pairs.c.cid)
    b, m = Beneficiary, Movement
    moved_b = aliased(Beneficiary)
    # Naming both statuses leads SQLite to the (company, status) index, which yields the
    # ids in ascending runs: the probes below then walk their index almost in order
    # (half the time of probing in effective-date order).
    current = select(b.company_id.label("cid"), b.id.label("bid")).where(
        in_ids(b.company_id, ids), b.status.in_(STATUSES)
    )
    moved = (
        select(m.from_company_id.label("cid"), m.beneficiary_id.label("bid"))
        .join(moved_b, moved_b.id == m.beneficiary_id)
        .where(
            m.kind == "transfer",
            m.from_company_id.is_not(None),
            in_ids(m.from_company_id, ids),
            moved_b.company_id != m.from_company_id,
        )
        .group_by(m.from_company_id, m.beneficiary_id)
    )
    candidates = union_all(current, moved).subquery()
    used = (
        select(u.id)
        .where(
            u.company_id == candidates.c.cid,
            u.beneficiary_id == candidates.c.bid,
            u.event_date >= period.start,
            u.event_date < period.end_exclusive,
        )
        .exists()
    )
    return select(candidates.c.cid, func.count()).where(used).group_by(candidates.c.cid)


def utilization_overview(
    *,
    uow: UnitOfWork,
    actor: Actor,
    period: Period,
    company_ids: Iterable[int] | None = None,
) -> UtilizationOverview:
    """Utilization, premiums and beneficiaries using of the period, for the company in
    context (or the chosen portfolio companies): the source of the headline figures,
    the months and the procedure groups."""
    ids = company_scope(uow=uow, actor=actor, company_ids=company_ids)
    with uow:
        s = uow.session
        usage = s.execute(usage_query(ids, period, uow.dialect)).all()
        premiums = s.execute(premiums_query(ids, period, uow.dialect)).all()
        # The statement filters on the checked `ids` itself; it reads the movements and
        # rows of people transferred out of them, which now belong to another company.
        using = s.execute(
            using_query(ids, period, uow.dialect).execution_options(all_companies=True)
        ).all()
    return UtilizationOverview(
        period=period,
        company_ids=ids,
        usage=pd.DataFrame(
            [
                (int(c), month_from_key(mk), str(g), int(n), int(cost or 0))
                for c, mk, g, n, cost in usage
            ],
            columns=USAGE_COLUMNS,
        ).astype({"procedures": "int64", "cost_cents": "int64"}),
        premiums=pd.DataFrame(
            [(int(c), month_from_key(mk), int(p or 0)) for c, mk, p in premiums],
            columns=PREMIUM_COLUMNS,
        ).astype({"premium_cents": "int64"}),
        using=pd.DataFrame([(int(c), int(n)) for c, n in using], columns=USING_COLUMNS).astype(
            {"beneficiaries_using": "int64"}
        ),
    )


PROCEDURE_COLUMNS = [
    "Código TUSS",
    "Procedimento",
    "Grupo",
    "Quantidade",
    "Custo (R$)",
    "Custo médio (R$)",
]


def utilization_by_procedure(
    *,
    uow: UnitOfWork,
    actor: Actor,
    period: Period,
    selection: UtilizationSelection | None = None,
    company_ids: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Quantity and cost by TUSS procedure, costliest first: one query."""
    ids = company_scope(uow=uow, actor=actor, company_ids=company_ids)
    u = UtilizationEvent
    where = event_where(ids, period, selection)
    with uow:
        if uow.dialect == "postgresql":
            # PostgreSQL aggregates the rows in parallel; the name is one per code.
            rows = uow.session.execute(
                select(
                    u.tuss_code,
                    func.min(u.procedure_name),
                    u.procedure_group,
                    func.count(),
                    func.sum(cents(u.amount)),
                )
                .where(*where)
                .group_by(u.tuss_code, u.procedure_group)
            ).all()
        else:
            # SQLite: grouped in the order of the covering index; the name comes from
            # one event of each code (the index holds the row id).
            named = aliased(UtilizationEvent)
            daily = (
                select(
                    u.procedure_group.label("grp"),
                    u.tuss_code.label("tuss"),
                    func.count().label("n"),
                    func.sum(cents(u.amount)).label("cost"),
                    func.min(u.id).label("any_id"),
                )
                .where(*where)
                .group_by(u.company_id, u.event_date, u.procedure_group, u.tuss_code)
                .subquery()
            )
            agg = (
                select(
                    daily.c.tuss,
                    daily.c.grp,
                    func.sum(daily.c.n).label("n"),
                    func.sum(daily.c.cost).label("cost"),
                    func.min(daily.c.any_id).label("any_id"),
                )
                .group_by(daily.c.tuss, daily.c.grp)
                .subquery()
            )
            rows = uow.session.execute(
                select(agg.c.tuss, named.procedure_name, agg.c.grp, agg.c.n, agg.c.cost).join(
                    named, named.id == agg.c.any_id
                )
            ).all()
    rows = sorted(rows, key=lambda r: (-int(r[4] or 0), r[0]))
    return pd.DataFrame(
        [(t, name, g, int(n), reais(c), per_head(c, n)) for t, name, g, n, c in rows],
        columns=PROCEDURE_COLUMNS,
    )


def _top_by_cost(
    key: Any,
    ids: Sequence[int],
    period: Period,
    selection: UtilizationSelection | None,
    top: int,
) -> Subquery:
    """The `top` values of `key` (a utilisation event column) by cost: key, n, cost."""
    u = UtilizationEvent
    return (
        select(key.label("key"), func.count().label("n"), func.sum(cents(u.amount)).label("cost"))
        .where(*event_where(ids, period, selection))
        .group_by(key)
        .order_by(func.sum(cents(u.amount)).desc(), key)
        .limit(max(1, min(int(top), MAX_TOP)))
        .subquery()
    )


PROVIDER_COLUMNS = ["Prestador", "Cidade", "UF", "Procedimentos", "Custo (R$)"]


def utilization_by_provider(
    *,
    uow: UnitOfWork,
    actor: Actor,
    period: Period,
    selection: UtilizationSelection | None = None,
    top: int = 10,
    company_ids: Iterable[int] | None = None,
) -> pd.DataFrame:
    """The `top` providers by cost, with their procedures: one query."""
    ids = company_scope(uow=uow, actor=actor, company_ids=company_ids)
    p = Provider
    agg = _top_by_cost(UtilizationEvent.provider_id, ids, period, selection, top)
    with uow:
        rows = uow.session.execute(
            select(p.name, p.city, p.state, agg.c.n, agg.c.cost, p.id).join(agg, agg.c.key == p.id)
        ).all()
    rows = sorted(rows, key=lambda r: (-int(r[4] or 0), r[5]))
    return pd.DataFrame(
        [(name, city, state, int(n), reais(c)) for name, city, state, n, c, _ in rows],
        columns=PROVIDER_COLUMNS,
    )


BENEFICIARY_USE_COLUMNS = ["Nome", "Carteirinha", "CPF", "Procedimentos", "Custo (R$)"]


def utilization_by_beneficiary(
    *,
    uow: UnitOfWork,
    actor: Actor,
    period: Period,
    selection: UtilizationSelection | None = None,
    top: int = 10,
    company_ids: Iterable[int] | None = None,
) -> pd.DataFrame:
    """The `top` beneficiaries by cost (CPF masked unless allowed): one query."""
    ids = company_scope(uow=uow, actor=actor, company_ids=company_ids)
    full = actor.can(Permission.PERSONAL_DATA)
    b = Beneficiary
    agg = _top_by_cost(UtilizationEvent.beneficiary_id, ids, period, selection, top)
    with uow:
        rows = uow.session.execute(
            select(b.name, b.card_number, b.cpf, agg.c.n, agg.c.cost, b.id).join(
                agg, agg.c.key == b.id
            )
        ).all()
    rows = sorted(rows, key=lambda r: (-int(r[4] or 0), r[5]))
    return pd.DataFrame(
        [
            (name, _show_card(card), _show_cpf(cpf, full), int(n), reais(c))
            for name, card, cpf, n, c, _ in rows
        ],
        columns=BENEFICIARY_USE_COLUMNS,
    )
