"""SQLAlchemy models of the whole domain.

Documents (CPF, CNPJ, CAEPF, CNS, CEP) are text, money is `Money` (integer cents),
timestamps are UTC-aware. Constraints live in the schema so that every channel is held
to them, whatever the service code does.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from data.types import Money, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RELATIONSHIP_CODES = (1, 3, 4, 6, 8, 10)
BENEFICIARY_STATUSES = ("active", "inactive")
MOVEMENT_KINDS = ("inclusion", "exclusion", "update", "reactivation", "transfer", "plan_change")
# "scheduled": dated in the future, not yet in the beneficiary's row (services/movements/coverage.py
# settles it on its date); "cancelled": a scheduled movement withdrawn before its date.
MOVEMENT_STATES = ("applied", "scheduled", "cancelled")
COVERAGE_KINDS = ("regular", "stay")
# Ledger line kinds: mensalidade, retroativo, diferença de plano, crédito, art. 30/31.
INVOICE_LINE_KINDS = ("monthly", "retroactive", "plan_change_difference", "credit", "stay")
PRICE_TABLE_KINDS = ("bands", "single")
BAND_CHANGE_RULES = ("next_month", "birthday_month")
CHANNELS = ("individual", "batch", "retroactive")
BATCH_STATUSES = ("received", "checking", "applying", "done", "done_with_refusals", "refused")
BATCH_LINE_STATUSES = ("pending", "accepted", "refused", "warning", "applied")
INVOICE_STATUSES = ("open", "paid", "cancelled")
BOLETO_STATUSES = ("active", "replaced", "paid", "cancelled")
PROTOCOL_STATUSES = ("open", "in_analysis", "answered", "closed")
USER_ROLES = ("account_manager", "master", "user")
USER_STATUSES = ("pending", "active", "inactive")
DOCUMENT_TYPES = ("CNPJ", "CAEPF")


def _in(column: str, values: tuple[Any, ...]) -> str:
    quoted = ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), Decimal: Money()}


class Operator(Base):
    """The dental plan operator that runs the portal."""

    __tablename__ = "operator"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    ans_registration: Mapped[str] = mapped_column(String(6))
    cnpj: Mapped[str] = mapped_column(String(14))
    bank_code: Mapped[str] = mapped_column(String(3), default="001")
    # The operator's agreement with its bank (boleto free field): operator settings,
    # never derived from the ANS registration.
    bank_agreement: Mapped[str] = mapped_column(String(20), default="", server_default="")
    bank_wallet: Mapped[str] = mapped_column(String(5), default="", server_default="")
    bank_branch: Mapped[str] = mapped_column(String(10), default="", server_default="")
    bank_account: Mapped[str] = mapped_column(String(20), default="", server_default="")
    pix_key: Mapped[str] = mapped_column(String(77))
    city: Mapped[str] = mapped_column(String(60))
    card_prefix: Mapped[str] = mapped_column(String(4), default="0001")
    protocol_template: Mapped[str] = mapped_column(
        String(80), default="{ans}{date:%Y%m%d}{seq:06d}"
    )
    protocol_deadline_days: Mapped[int] = mapped_column(Integer, default=7)


class EconomicGroup(Base):
    __tablename__ = "economic_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Company(Base):
    """A client company (stipulator) and its contract settings."""

    __tablename__ = "company"
    __table_args__ = (
        CheckConstraint(_in("document_type", DOCUMENT_TYPES), name="document_type"),
        CheckConstraint("cutoff_day BETWEEN 1 AND 31", name="cutoff_day"),
        CheckConstraint("due_day BETWEEN 1 AND 31", name="due_day"),
        CheckConstraint("retroactive_months BETWEEN 1 AND 12", name="retroactive_months"),
        CheckConstraint(_in("status", ("active", "inactive")), name="status"),
        CheckConstraint(_in("band_change", BAND_CHANGE_RULES), name="band_change"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("economic_group.id"), index=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    document: Mapped[str] = mapped_column(String(14), index=True)
    document_type: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(200))
    trade_name: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(20))
    complement: Mapped[str | None] = mapped_column(String(100))
    neighbourhood: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    cep: Mapped[str | None] = mapped_column(String(8))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    contract_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active")
    cutoff_day: Mapped[int] = mapped_column(Integer, default=20)
    due_day: Mapped[int] = mapped_column(Integer, default=10)
    retroactive_months: Mapped[int] = mapped_column(Integer, default=3)
    # Percentages with 2 places, stored like money (integer hundredths).
    fine_pct: Mapped[Decimal] = mapped_column(default=Decimal("2.00"))
    monthly_interest_pct: Mapped[Decimal] = mapped_column(default=Decimal("1.00"))
    overdue_update_limit_days: Mapped[int] = mapped_column(Integer, default=59)
    dependents_follow_holder: Mapped[bool] = mapped_column(Boolean, default=True)
    # Every holder included must name one of the company's cost centres (services/cost_centres.py).
    cost_centre_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # relationship code -> {"allowed": bool, "max_age": int|None, "student_max_age": int|None}
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # First reference month the portal's ledger bills (months before it were settled
    # outside the portal).
    billing_start: Mapped[date | None] = mapped_column(Date)
    # When the age band changes: the month after the birthday (default) or its month.
    band_change: Mapped[str] = mapped_column(
        String(15), default="next_month", server_default="next_month"
    )
    # Waiting periods of the contract: procedure group -> days (services/rules/waiting.py).
    waiting_periods: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    group: Mapped[EconomicGroup | None] = relationship()
    contracted_plans: Mapped[list[ContractedPlan]] = relationship(back_populates="company")


class AccountManagerCompany(Base):
    """The portfolio of an account manager."""

    __tablename__ = "account_manager_company"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), primary_key=True)


class Plan(Base):
    __tablename__ = "plan"
    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    ans_registration: Mapped[str] = mapped_column(String(12), unique=True)
    segment: Mapped[str] = mapped_column(String(60))
    coverage_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    general_conditions: Mapped[str] = mapped_column(Text, default="")


class PriceTable(Base):
    """Prices by age band (RN 63/2003) for a validity period.

    A table of a contracted plan (`contracted_plan_id`) is what billing charges; a table
    without one is the operator's reference price of the plan, the starting point of a
    new contract. Kind "single" (preço único) has one price for every age."""

    __tablename__ = "price_table"
    __table_args__ = (
        UniqueConstraint("contracted_plan_id", "valid_from"),
        Index(
            "uq_price_table_reference",
            "plan_id",
            "valid_from",
            unique=True,
            sqlite_where=text("contracted_plan_id IS NULL"),
            postgresql_where=text("contracted_plan_id IS NULL"),
        ),
        CheckConstraint(_in("kind", PRICE_TABLE_KINDS), name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    contracted_plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("contracted_plan.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), default="bands", server_default="bands")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # A readjustment's percentage and whether it was the pool's (< 30 lives), if any.
    readjustment_pct: Mapped[Decimal | None] = mapped_column()
    pooled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    bands: Mapped[list[PriceBand]] = relationship(
        back_populates="table", order_by="PriceBand.band", cascade="all, delete-orphan"
    )


class PriceBand(Base):
    __tablename__ = "price_band"
    __table_args__ = (
        UniqueConstraint("price_table_id", "band"),
        CheckConstraint("band BETWEEN 1 AND 10", name="band"),
        CheckConstraint("price >= 0", name="price"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    price_table_id: Mapped[int] = mapped_column(ForeignKey("price_table.id"))
    band: Mapped[int] = mapped_column(Integer)
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column()
    table: Mapped[PriceTable] = relationship(back_populates="bands")


class ContractedPlan(Base):
    __tablename__ = "contracted_plan"
    __table_args__ = (UniqueConstraint("company_id", "plan_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    company: Mapped[Company] = relationship(back_populates="contracted_plans")
    plan: Mapped[Plan] = relationship()


class Beneficiary(Base):
    """A covered person: holder (relationship 1) or dependent of a holder."""

    __tablename__ = "beneficiary"
    __table_args__ = (
        CheckConstraint(_in("relationship_code", RELATIONSHIP_CODES), name="relationship_code"),
        CheckConstraint(_in("status", BENEFICIARY_STATUSES), name="status"),
        CheckConstraint(_in("sex", ("M", "F")), name="sex"),
        CheckConstraint(
            "(relationship_code = 1 AND holder_id IS NULL) OR "
            "(relationship_code <> 1 AND holder_id IS NOT NULL)",
            name="holder_link",
        ),
        CheckConstraint(
            "(status = 'inactive') = (exclusion_date IS NOT NULL)", name="exclusion_date"
        ),
        # One active enrolment per CPF per company.
        Index(
            "uq_beneficiary_active_cpf",
            "company_id",
            "cpf",
            unique=True,
            sqlite_where=text("status = 'active' AND cpf IS NOT NULL"),
            postgresql_where=text("status = 'active' AND cpf IS NOT NULL"),
        ),
        Index("ix_beneficiary_company_status", "company_id", "status"),
        Index("ix_beneficiary_company_dates", "company_id", "effective_date", "exclusion_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    card_number: Mapped[str] = mapped_column(String(20), unique=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    relationship_code: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    cpf: Mapped[str | None] = mapped_column(String(11), index=True)
    cns: Mapped[str | None] = mapped_column(String(15))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    mother_name: Mapped[str] = mapped_column(String(200))
    marital_status: Mapped[str | None] = mapped_column(String(20))
    is_student: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    cep: Mapped[str | None] = mapped_column(String(8))
    street: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(20))
    complement: Mapped[str | None] = mapped_column(String(100))
    neighbourhood: Mapped[str | None] = mapped_column(String(100))
    municipality: Mapped[str | None] = mapped_column(String(100))
    municipality_ibge: Mapped[str | None] = mapped_column(String(7))
    state: Mapped[str | None] = mapped_column(String(2))
    admission_date: Mapped[date | None] = mapped_column(Date)
    effective_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active")
    exclusion_date: Mapped[date | None] = mapped_column(Date)
    exclusion_reason: Mapped[str | None] = mapped_column(String(40))
    stay_until: Mapped[date | None] = mapped_column(Date)
    # Waiting periods computed at inclusion: procedure group -> last day (ISO) or null
    # when exempt (RN 195 art. 6); see services/rules/waiting.py.
    waiting_periods: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    # Holders only: a dependent's cost centre is its holder's (services/cost_centres.py).
    cost_centre_id: Mapped[int | None] = mapped_column(ForeignKey("cost_centre.id"), index=True)

    holder: Mapped[Beneficiary | None] = relationship(remote_side=[id])
    plan: Mapped[Plan] = relationship()


class CoveragePeriod(Base):
    """A stretch of coverage: the one source of who is covered, where and on which plan.

    `end_date` is the first day not covered (None: open). Status, company, plan and
    billing as of a date derive from these rows (services/movements/coverage.py). Kind "stay" is
    an arts. 30/31 stay (Lei 9.656/1998) of a dismissed or retired holder's family."""

    __tablename__ = "coverage_period"
    __table_args__ = (
        CheckConstraint(_in("kind", COVERAGE_KINDS), name="kind"),
        CheckConstraint("end_date IS NULL OR end_date > start_date", name="dates"),
        Index("ix_coverage_period_company_dates", "company_id", "start_date", "end_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10), default="regular", server_default="regular")
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("movement.id"))


class Counter(Base):
    """Named counters for numbers that must not race (card numbers, protocols).

    A service takes the row with SELECT ... FOR UPDATE (PostgreSQL) or inside the
    write transaction (SQLite) and increments it.
    """

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Protocol(Base):
    __tablename__ = "protocol"
    __table_args__ = (
        CheckConstraint(_in("status", PROTOCOL_STATUSES), name="status"),
        Index("ix_protocol_company_opened", "company_id", "opened_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    opened_at: Mapped[datetime] = mapped_column()
    deadline: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column()
    opened_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    events: Mapped[list[ProtocolEvent]] = relationship(
        back_populates="protocol", order_by="ProtocolEvent.at"
    )


class ProtocolEvent(Base):
    __tablename__ = "protocol_event"
    __table_args__ = (CheckConstraint(_in("status", PROTOCOL_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_id: Mapped[int] = mapped_column(ForeignKey("protocol.id"), index=True)
    at: Mapped[datetime] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    protocol: Mapped[Protocol] = relationship(back_populates="events")


class BatchFile(Base):
    __tablename__ = "batch_file"
    __table_args__ = (
        CheckConstraint(_in("status", BATCH_STATUSES), name="status"),
        Index("ix_batch_file_company_hash", "company_id", "content_hash"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="received")
    received_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    total_lines: Mapped[int] = mapped_column(Integer, default=0)
    accepted_lines: Mapped[int] = mapped_column(Integer, default=0)
    refused_lines: Mapped[int] = mapped_column(Integer, default=0)
    warning_lines: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # The file as received: to apply after the check, resume, and rebuild the result file.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class BatchLine(Base):
    __tablename__ = "batch_line"
    __table_args__ = (
        UniqueConstraint("batch_id", "line_number"),
        CheckConstraint(_in("status", BATCH_LINE_STATUSES), name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch_file.id"))
    line_number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    message: Mapped[str | None] = mapped_column(Text)
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("movement.id"))


class Movement(Base):
    """One accepted change to the set of beneficiaries (SIB: inclusão, retificação...)."""

    __tablename__ = "movement"
    __table_args__ = (
        CheckConstraint(_in("kind", MOVEMENT_KINDS), name="kind"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("state", MOVEMENT_STATES), name="state"),
        Index("ix_movement_company_received", "company_id", "received_at"),
        Index("ix_movement_state_effective", "state", "effective_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    kind: Mapped[str] = mapped_column(String(15))
    channel: Mapped[str] = mapped_column(String(12))
    effective_date: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column()
    billing_month: Mapped[date] = mapped_column(Date)
    is_retroactive: Mapped[bool] = mapped_column(Boolean, default=False)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    protocol_id: Mapped[int | None] = mapped_column(ForeignKey("protocol.id"))
    from_company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))
    old_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    new_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    reason: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default="applied", server_default="applied")
    # A scheduled movement: the beneficiary columns it sets on its date, and the coverage
    # periods it replaced (restored when it is cancelled).
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    coverage_before: Mapped[list[Any] | None] = mapped_column(JSON)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancel_protocol_id: Mapped[int | None] = mapped_column(ForeignKey("protocol.id"))


class Invoice(Base):
    """What a company owes for a billing month ("competência")."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("company_id", "billing_month"),
        CheckConstraint(_in("status", INVOICE_STATUSES), name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    billing_month: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default="open")
    issued_at: Mapped[datetime] = mapped_column()
    paid_on: Mapped[date | None] = mapped_column(Date)
    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice")


class InvoiceLine(Base):
    __tablename__ = "invoice_line"
    __table_args__ = (CheckConstraint(_in("kind", INVOICE_LINE_KINDS), name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    reference_month: Mapped[date] = mapped_column(Date)
    age_band: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(25), default="monthly")
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("movement.id"))
    amount: Mapped[Decimal] = mapped_column()
    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Boleto(Base):
    __tablename__ = "boleto"
    __table_args__ = (CheckConstraint(_in("status", BOLETO_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column()
    fine: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    interest: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    our_number: Mapped[str] = mapped_column(String(20))
    barcode: Mapped[str] = mapped_column(String(44))
    typed_line: Mapped[str] = mapped_column(String(47))
    pix_payload: Mapped[str] = mapped_column(Text)
    # The PIX txid (<= 25 letters and digits), unique per boleto.
    txid: Mapped[str | None] = mapped_column(String(25), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    issued_at: Mapped[datetime] = mapped_column()
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("boleto.id"))


class Payment(Base):
    __tablename__ = "payment"
    __table_args__ = (CheckConstraint(_in("method", ("boleto", "pix", "transfer")), name="method"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    boleto_id: Mapped[int | None] = mapped_column(ForeignKey("boleto.id"))
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column()
    method: Mapped[str] = mapped_column(String(10))


class Provider(Base):
    """A dentist or clinic of the operator's network."""

    __tablename__ = "provider"
    __table_args__ = (Index("ix_provider_state_city", "state", "city"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    cro: Mapped[str] = mapped_column(String(12))
    cro_state: Mapped[str] = mapped_column(String(2))
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(20))
    street: Mapped[str] = mapped_column(String(200))
    neighbourhood: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    cep: Mapped[str] = mapped_column(String(8))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class UtilizationEvent(Base):
    """A dental procedure a beneficiary used (TUSS code)."""

    __tablename__ = "utilization_event"
    __table_args__ = (
        Index("ix_utilization_company_date", "company_id", "event_date"),
        Index(
            "ix_utilization_report",
            "company_id",
            "event_date",
            "procedure_group",
            "tuss_code",
            "provider_id",
            "beneficiary_id",
            "amount",
        ),
        Index(
            "ix_utilization_company_beneficiary",
            "company_id",
            "beneficiary_id",
            "event_date",
            "amount",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    event_date: Mapped[date] = mapped_column(Date)
    tuss_code: Mapped[str] = mapped_column(String(8))
    procedure_name: Mapped[str] = mapped_column(String(200))
    procedure_group: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column()


class User(Base):
    """A person who logs in: account manager, company master or company user."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(_in("role", USER_ROLES), name="role"),
        CheckConstraint(_in("status", USER_STATUSES), name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    cpf: Mapped[str | None] = mapped_column(String(11))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    password_hash: Mapped[str | None] = mapped_column(String(100))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    # Raised when the password changes or the user is inactivated: every session and
    # login cookie carrying an older value ends at its next step.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # bcrypt hashes of the previous passwords (newest first), so none of the last
    # three is chosen again.
    password_history: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    company: Mapped[Company | None] = relationship()


class UserSession(Base):
    """A login: the cookie carries its random id, the table its hash and its life.

    Logout ends it, so a copied cookie is worthless afterwards; a session idle for
    longer than the configured minutes is not restored from the cookie."""

    __tablename__ = "user_session"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str | None] = mapped_column(String(20))


class PersonalDataAccess(Base):
    """Who saw a beneficiary's personal data, when and how (LGPD, art. 37: the
    controller keeps a record of the processing). `beneficiary_id` is empty for a
    listing of many beneficiaries with personal data unmasked."""

    __tablename__ = "personal_data_access"
    __table_args__ = (
        Index("ix_personal_data_access_beneficiary", "beneficiary_id", "at"),
        Index("ix_personal_data_access_company_at", "company_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id"))
    purpose: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(200), default="")


class RateEvent(Base):
    """One attempt at a public form, for its rate limit (see services/access/rate_limit.py)."""

    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_event_bucket_at", "bucket", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column()


# What an e-mailed single-use link is for (see services/access/accounts.py).
TOKEN_PURPOSES = ("password_reset", "company_activation", "user_invitation")


class PasswordResetToken(Base):
    """A single-use, expiring link sent by e-mail; only its SHA-256 is kept.

    `password_reset` and `user_invitation` belong to a user; `company_activation` to a
    company without users yet. `company_id` is the company the link is about (none for
    an account manager's reset) and `email` the address it was sent to."""

    __tablename__ = "password_reset_token"
    __table_args__ = (
        CheckConstraint(_in("purpose", TOKEN_PURPOSES), name="purpose"),
        CheckConstraint("user_id IS NOT NULL OR company_id IS NOT NULL", name="owner"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(
        String(20), default="password_reset", server_default="password_reset"
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


# "outbox": the demo page is the delivery (no SMTP); "pending": recorded, waiting for
# delivery after its transaction commits; "sending": a deliverer holds it (SMTP talk).
OUTBOX_STATUSES = ("outbox", "pending", "sending", "sent", "failed")


class OutboxEmail(Base):
    """E-mail recorded in the caller's transaction and delivered after its commit, with
    no transaction open (services/mail/outbox.py); without SMTP the demo outbox page is the
    delivery."""

    __tablename__ = "outbox_email"
    __table_args__ = (CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default="outbox")
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    attachment_mime: Mapped[str | None] = mapped_column(String(100))
    # The attachment's bytes, kept only until the SMTP server has taken the message.
    attachment_content: Mapped[bytes | None] = mapped_column(LargeBinary)
    # When the body holds a secret (a link's token): the body as sent, sealed with a key
    # derived from the cookie key, until delivered; `body` has the secret blanked, so
    # neither the table nor a statement log shows it.
    sealed_body: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(300))


class AuditRecord(Base):
    """Who changed what, when, with the before and after."""

    __tablename__ = "audit_record"
    __table_args__ = (Index("ix_audit_company_at", "company_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --- Documents on demand (issue 15, documents) ---

# What a document on demand is: income-tax statement (per holder and calendar year),
# declaration of discharge of debts (Lei 12.007/2009, per company and year), permanence
# letter (per beneficiary, for portability), proof of exclusion (per exclusion protocol).
ISSUED_DOCUMENT_KINDS = ("income_tax", "discharge", "permanence", "exclusion_proof")


class IssuedDocument(Base):
    """A document the portal issued, found by its verification code on the public page.

    `summary` is what the public page may show (the document's own facts, personal data
    masked); `content_sha256` the hash of the PDF as issued (the PDF itself is not kept)."""

    __tablename__ = "issued_document"
    __table_args__ = (
        CheckConstraint(_in("kind", ISSUED_DOCUMENT_KINDS), name="kind"),
        Index("ix_issued_document_company_issued", "company_id", "issued_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column()
    issued_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_sha256: Mapped[str] = mapped_column(String(64))


# --- Bank files (issue 15, CNAB 240) ---
# A remessa is the operator's (every company's boletos, one NSA sequence); its items and
# the retorno's lines carry the company of their boleto (none for an unknown boleto).
REMITTANCE_MOVEMENTS = ("01", "02")  # entrada de título, pedido de baixa
RETURN_LINE_STATUSES = (
    "paid",  # matched, payment recorded, invoice paid
    "divergent",  # matched, amount short of what is owed: listed, nothing recorded
    "unknown",  # no boleto with this nosso número
    "already_paid",  # the payment or the invoice was already recorded as paid
    "not_payment",  # an occurrence that is no payment (entrada confirmada, baixa...)
    "outside",  # a boleto of a company outside the reader's portfolio: not applied
)


class BankRemittance(Base):
    """A CNAB 240 remessa generated for the bank (NSA: its sequence number)."""

    __tablename__ = "bank_remittance"
    id: Mapped[int] = mapped_column(primary_key=True)
    nsa: Mapped[int] = mapped_column(Integer, unique=True)
    generated_at: Mapped[datetime] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    file_name: Mapped[str] = mapped_column(String(60))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    titles: Mapped[int] = mapped_column(Integer)
    entries_total: Mapped[Decimal] = mapped_column()


class BankRemittanceItem(Base):
    """A boleto in a remessa: its entrada (01) or its baixa (02), each sent once."""

    __tablename__ = "bank_remittance_item"
    __table_args__ = (
        UniqueConstraint("boleto_id", "movement"),
        CheckConstraint(_in("movement", REMITTANCE_MOVEMENTS), name="movement"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("bank_remittance.id"), index=True)
    boleto_id: Mapped[int] = mapped_column(ForeignKey("boleto.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    movement: Mapped[str] = mapped_column(String(2))
    amount: Mapped[Decimal] = mapped_column()


class BankReturnFile(Base):
    """A CNAB 240 retorno read (once: its content's SHA-256 is unique)."""

    __tablename__ = "bank_return_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(200))
    read_at: Mapped[datetime] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    bank_code: Mapped[str] = mapped_column(String(3))
    nsa: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class BankReturnLine(Base):
    """One title of a retorno and what reading it did."""

    __tablename__ = "bank_return_line"
    __table_args__ = (
        UniqueConstraint("return_file_id", "line_number"),
        CheckConstraint(_in("status", RETURN_LINE_STATUSES), name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    return_file_id: Mapped[int] = mapped_column(ForeignKey("bank_return_file.id"))
    line_number: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    boleto_id: Mapped[int | None] = mapped_column(ForeignKey("boleto.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    title_id: Mapped[str] = mapped_column(String(20))
    movement: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(15))
    face_value: Mapped[Decimal] = mapped_column()
    charges: Mapped[Decimal] = mapped_column()  # fine + interest paid
    discount: Mapped[Decimal] = mapped_column()
    paid: Mapped[Decimal] = mapped_column()
    owed: Mapped[Decimal | None] = mapped_column()
    paid_on: Mapped[date | None] = mapped_column(Date)
    credited_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="", server_default="")


# --- Notices (issue 15, notices) ---

# What a notice is about (services/rules/notices.py says when each is due and who gets it).
NOTICE_KINDS = (
    "cutoff",
    "invoice_overdue",
    "exclusion_scheduled",
    "dependent_ageing",
    "batch_finished",
)


class Notice(Base):
    """One notice of the bell for one user, about one company.

    `dedupe_key` names the event (kind, and the invoice, protocol, beneficiary, batch or
    date it is about): one user never gets the same notice twice, however often the
    generation runs. Title and text are built from the data (services/notices.py), never
    typed by anyone; `audience` is the permission that made the user a recipient (the
    list hides the notice once the user loses it); `link` is the page script it points to."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        CheckConstraint(_in("kind", NOTICE_KINDS), name="kind"),
        Index("ix_notice_user_company_read", "user_id", "company_id", "read_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column()
    read_at: Mapped[datetime | None] = mapped_column()


class NoticePreference(Base):
    """A user's choice to get the bell's notices by e-mail too (no row: only the bell)."""

    __tablename__ = "notice_preference"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column()


# --- Cost centres (issue 15, cost centres) ---


class CostCentre(Base):
    """A cost centre ("centro de custo" / lotação) of a company: its own code and name.

    Holders point at one (`Beneficiary.cost_centre_id`); dependents follow their holder.
    A cost centre is never deleted, only deactivated (invoices and reports keep naming it)."""

    __tablename__ = "cost_centre"
    __table_args__ = (UniqueConstraint("company_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")


# --- Job runs (issue 14: long work on the task queue) ---

JOB_RUN_KINDS = ("billing_run",)
JOB_RUN_STATUSES = ("queued", "running", "done", "failed")


class JobRun(Base):
    """A long piece of work a user queued (the monthly billing run): what was asked, its
    state and, once over, its result; the page follows it and shows it after the browser
    was closed. Progress while running is in the queue's store, not here (a SQLite
    database is locked by the running job's own transaction)."""

    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint(_in("kind", JOB_RUN_KINDS), name="kind"),
        CheckConstraint(_in("status", JOB_RUN_STATUSES), name="status"),
        Index("ix_job_run_kind_status", "kind", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
