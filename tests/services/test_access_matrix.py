"""The access control matrix of the service layer, on SQLite and PostgreSQL.

Every public service function that reads or writes company data is called by every kind
of actor on company A (the target, 10001) and on company B (10005, another company,
outside A's economic group). The expected outcome of every cell is written down in
MATRIX below. An "ok" cell must succeed, answer with data of the company asked only and
write only rows of that company; a "NO" cell must raise DomainError with an access
message and write nothing at all. Every (function, company) column has an "ok" cell, so
the request itself is valid and a refusal can only come from the access rules.

Rows, always relative to company A:

- am_with: an account manager with A (and A2, 10002, of A's group) in its portfolio, not B;
- am_without: an account manager of B (and B2, 10006, of B's group) only;
- master: the master of A (who sees A's whole economic group);
- master_other: the master of B;
- user_with / user_without: users of A with only the permission the function needs / with
  every permission but that one; for a function that needs no permission, a user with
  every permission / with none;
- inactive: a user of A with every permission, inactivated after its actor was built. The
  service layer trusts the actor it is given, so its cells read like user_with's: it is
  the frame's `access.actor_refresh`, on every step of a session, that ends an inactive
  user's session before any page runs (test_an_inactive_user_is_out_before_any_service);
- anonymous: nobody logged in. No service is reached: every page but the public access
  pages calls `get_context` (which stops the page without an actor) before anything else
  and gets its actor nowhere else (test_a_page_gets_its_actor_only_from_get_context).

The world (the demo seed plus what `_build` adds) holds, for A and for B, the objects the
cells act on, made through the services: holders, an excluded holder, an open and an
overdue invoice, a protocol, a received batch, a plain user, records of personal data
seen, and a family split between two companies of the group (a holder transferred in,
its excluded child left behind). Besides the matrix, objects of B asked for in A's
context are refused (test_an_object_of_company_b_asked_in_company_a_context_is_refused).

Each cell runs inside a transaction rolled back afterwards (the sessions join it through
SAVEPOINTs, so the services' own commits stay inside it): every cell starts from the same
world, seeded once per database, and the world is checked unchanged at the end.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Select, Table, func, literal, select, text, union_all
from sqlalchemy.orm import Session, sessionmaker

import demo.generator
from config import Settings
from data.db import make_session_factory
from data.models import (
    AccountManagerCompany,
    AuditRecord,
    Base,
    BatchFile,
    BatchLine,
    Beneficiary,
    Boleto,
    Company,
    ContractedPlan,
    CostCentre,
    Invoice,
    InvoiceLine,
    IssuedDocument,
    Movement,
    Notice,
    Operator,
    PersonalDataAccess,
    Plan,
    Protocol,
    Provider,
    User,
    UtilizationEvent,
)
from data.uow import UnitOfWork
from demo.generator import seed_demo
from services import billing, companies, cost_centres, home, lgpd, notices, protocols
from services import documents as issued_documents
from services import roster as roster_service
from services.access import accounts as access
from services.access import users
from services.actors import ALL_PERMISSIONS, Actor, Permission, Role
from services.batch import processing as batch
from services.billing import bank_files, payments, prices
from services.jobs import batch as jobs_batch
from services.jobs import billing_run as jobs_billing_run
from services.jobs.queue import JobQueue, queue_for
from services.jobs.settings import QueueSettings
from services.jobs.stall import JobState
from services.mail import outbox as mail
from services.movements import ageing, coverage, exclusion_proof
from services.movements import service as movements
from services.movements.service import (
    ExclusionRequest,
    InclusionRequest,
    PlanChangeRequest,
    ReactivationRequest,
    TransferRequest,
    UpdateRequest,
)
from services.reports import analytics
from services.reports import beneficiaries as reports
from services.reports.beneficiaries import ACTIVE, BeneficiaryFilters, Period
from services.rules.cnab240 import Account, bank_title_id
from services.rules.errors import DomainError
from services.rules.roster import ExclusionOffer, HolderRecord
from tests.cnab_support import Paid, retorno_file
from tests.conftest import _fresh_postgres, _fresh_sqlite
from tests.services.movements_support import NOW, TODAY, child_person, holder_person, new_cpf
from tests.services.test_batch import csv_file
from tests.services.test_users_and_company import CONTACT_A

PASSWORD = "Sorriso@2026"
PERIOD = Period.last(12, today=TODAY)
PREVIOUS = Period(date(2024, 11, 1), date(2025, 10, 1))
PDF = b"%PDF-1.4 boleto"
ROOT = Path(__file__).resolve().parents[2]

ROLES = (
    "am_with",
    "am_without",
    "master",
    "master_other",
    "user_with",
    "user_without",
    "inactive",
)
COMPANIES = ("A", "B")
# What a refusal by the access rules says (actors.require, the audit trail, the
# account-manager-only services).
ACCESS_REFUSAL = re.compile(
    r"não tem acesso a esta empresa|não tem permissão para|trilha de auditoria é vista|"
    r"exclusiva dos gestores de contas|Só o gestor de contas|é feito pelo gestor de contas"
)

# ================================================================ the matrix
#
# ok: succeeds, with data of the company asked only.  NO: DomainError, nothing written.
# Rows: AM+ am_with, AM- am_without, M master (of A), MB master_other (of B),
#       U+ user_with, U- user_without, X inactive.  Companies: A (target), B (other).
# Policies behind the rows (the "inactive" actor was built before its inactivation):
# - company data: whoever sees the company and holds the permission (none for some reads);
# - audit_list: masters and account managers of the company, never plain users;
# - billing_run, portfolio_*, the reports given `company_ids` and the LGPD access request
#   (dossier, access log): account managers only, for companies of their own portfolio.
# Views of personal data are recorded (personal_data_access): those cells write.

MATRIX = """
                                       AM+    AM-    M      MB     U+     U-     X
                                       A  B   A  B   A  B   A  B   A  B   A  B   A  B
# companies
company_details                        ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
company_contact_update                 ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
company_waiting_periods_update         ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
company_plans                          ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
# users
user_list                              ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
user_add                               ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
user_update                            ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
user_set_active                        ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
user_invitation_resend                 ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
audit_list                             ok NO  NO ok  ok NO  NO ok  NO NO  NO NO  NO NO
# movements
movement_apply[inclusion]              ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
movement_apply[exclusion]              ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
movement_apply[update]                 ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
movement_apply[reactivation]           ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
movement_apply[transfer]               ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
movement_apply[plan_change]            ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
exclusion_preview                      ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
beneficiary_search                     ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
beneficiary_detail                     ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
movement_options                       ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
transfer_plans                         ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
scheduled_list                         ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
scheduled_cancel                       ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
movement_apply[stay]                   ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
# batch
batch_list                             ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
batch_lines                            ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
batch_receive                          ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
batch_apply                            ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
batch_result_file                      ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
batch_enqueue                          ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
batch_progress                         ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
# cost centres (kept by whoever registers movements)
cost_centre_list                       ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
cost_centre_add                        ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
cost_centre_rename                     ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
cost_centre_deactivate                 ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
cost_centre_reactivate                 ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
cost_centre_import                     ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
# roster reconciliation (whoever registers movements)
roster_reconcile                       ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
roster_to_batch                        ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
cost_centre_requirement_set            ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
# billing
invoice_years                          ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
invoice_list                           ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
invoice_detail                         ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
ledger_rows                            ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
run_summary                            ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
billing_report_options                 ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
billing_report                         ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
billing_run                            ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
billing_run_enqueue                    ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
# payments
boleto_issue                           ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
boleto_send_email                      ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
overdue_invoice_list                   ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
overdue_quote                          ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
overdue_reissue                        ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
payment_status                         ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
# protocols
protocol_list                          ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
protocol_detail                        ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
protocol_request_open                  ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
protocol_add_note                      ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
# reports
company_scope                          ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
company_scope[portfolio]               ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
beneficiary_options                    ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
beneficiary_report                     ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
utilization_overview                   ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
utilization_by_procedure               ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
utilization_by_provider                ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
utilization_by_beneficiary             ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
utilization_overview[portfolio]        ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
utilization_by_procedure[portfolio]    ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
utilization_by_provider[portfolio]     ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
utilization_by_beneficiary[portfolio]  ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
# analytics
portfolio_lives                        ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
utilization_compare                    ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
utilization_pivot                      ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
# lgpd
personal_data_listing_record           ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
beneficiary_dossier                    ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
# notices (the actor's own, of the company in context; reading is not audited)
notice_unread_count                    ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
notice_list                            ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
notice_mark_read                       ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
notice_mark_all_read                   ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
# home
important_dates                        ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
ageing_dependents                      ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
# exclusion proof (movements or protocols: the user without movements still has protocols)
exclusion_proof_view                   ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
# documents on demand: the income-tax statement needs finance and personal data, the
# permanence letter movements and personal data (their CPFs are printed whole), so the
# user with only finance (or only movements) is refused; the discharge needs finance
income_tax_years                       ok NO  NO ok  ok NO  NO ok  NO NO  NO NO  ok NO
income_tax_holders                     ok NO  NO ok  ok NO  NO ok  NO NO  NO NO  ok NO
income_tax_issue                       ok NO  NO ok  ok NO  NO ok  NO NO  NO NO  ok NO
income_tax_issue_all                   ok NO  NO ok  ok NO  NO ok  NO NO  NO NO  ok NO
discharge_status                       ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
discharge_issue                        ok NO  NO ok  ok NO  NO ok  ok NO  NO NO  ok NO
permanence_issue                       ok NO  NO ok  ok NO  NO ok  NO NO  NO NO  ok NO
exclusion_proof_issue                  ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
issued_document_list                   ok NO  NO ok  ok NO  NO ok  ok NO  ok NO  ok NO
# prices (the contract's price tables: account managers of the company only)
price_tables_list                      ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
price_table_save                       ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
band_change_set                        ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
# bank files (CNAB 240: account managers only, over companies of their own portfolio)
remessa_preview                        ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
remessa_generate                       ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
remessa_list                           ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
remessa_file                           ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
retorno_apply                          ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
retorno_list                           ok NO  NO ok  NO NO  NO NO  NO NO  NO NO  NO NO
"""


ROLE_COLUMNS = {
    "AM+": "am_with",
    "AM-": "am_without",
    "M": "master",
    "MB": "master_other",
    "U+": "user_with",
    "U-": "user_without",
    "X": "inactive",
}


def _parse(matrix: str) -> dict[tuple[str, str, str], str]:
    lines = [line.split() for line in matrix.strip().splitlines() if not line.startswith("#")]
    header, columns, rows = lines[0], lines[1], lines[2:]
    assert tuple(ROLE_COLUMNS[h] for h in header) == ROLES
    assert columns == list(COMPANIES) * len(ROLES)
    cells: dict[tuple[str, str, str], str] = {}
    for name, *marks in rows:
        assert len(marks) == 2 * len(ROLES), name
        for i, mark in enumerate(marks):
            assert mark in ("ok", "NO"), (name, mark)
            key = (name, ROLES[i // 2], COMPANIES[i % 2])
            assert key not in cells, key
            cells[key] = "ok" if mark == "ok" else "refused"
    return cells


EXPECTED = _parse(MATRIX)
FUNCTIONS = list(dict.fromkeys(name for name, _, _ in EXPECTED))

# ================================================================ the world


@dataclass
class Facts:
    """One company of the world and the objects the cells act on."""

    id: int
    code: str
    name: str
    label: str  # as the pivot names it
    partner: int  # the other company of its group: the transfer target
    contracted: set[int]
    plan_id: int  # contracted by the company and by its partner
    other_plan_id: int  # another plan the company contracts
    holder_id: int
    holder_card: str  # an active holder (no dependents) on plan_id, viewed once (LGPD)
    moved_card: str  # a holder transferred in from `origin`, its excluded child left there
    origin: int  # A3 (10003: A's group, not in am_with's portfolio) for A, B2 for B
    inactive_card: str  # an excluded holder, to reactivate
    invoice_open: int  # an open invoice without a boleto
    invoice_overdue: int  # an overdue open invoice with an active boleto
    pay_date: date  # a date the overdue invoice may be paid on
    protocol_id: int  # an open protocol
    batch_id: int  # a received batch, checked and not applied
    batch_cpf: str  # the CPF of its only line
    user_id: int  # a plain user of the company (not a master)
    user_cpf: str
    user_email: str
    pending_id: int = 0  # a user created by the master, still pending its first access
    scheduled_protocol: str = ""  # an exclusion scheduled for 20 days ahead
    stay_card: str = ""  # a holder dismissed today who contributed: may opt for the stay
    cost_centre_idle: int = 0  # an active cost centre without holders
    cost_centre_inactive: int = 0  # a deactivated cost centre


@dataclass
class World:
    engine: Engine
    a: Facts
    b: Facts
    actors: dict[str, Actor]

    @contextmanager
    def transaction(self) -> Iterator[tuple[Connection, sessionmaker[Session]]]:
        """A connection in a transaction that is rolled back at the end, and sessions that
        join it with SAVEPOINTs (a service's commit releases its savepoint only)."""
        conn = self.engine.connect()
        outer = conn.begin()
        try:
            yield (
                conn,
                sessionmaker(
                    bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
                ),
            )
        finally:
            outer.rollback()
            conn.close()

    def facts(self, company: str) -> Facts:
        return self.a if company == "A" else self.b


GATES = (
    Permission.MOVEMENTS,
    Permission.FINANCE,
    Permission.REPORTS,
    Permission.PROTOCOLS,
    Permission.USER_ADMIN,
)


@pytest.fixture(scope="module")
def quiet() -> Iterator[None]:
    """Cheap password hashes and no SMTP server, for the whole module."""
    settings = Settings(**{"_env_file": None, "smtp_host": "", "base_url": "https://portal.test"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo.generator, "BCRYPT_COST", 4)
        mp.setattr(access, "BCRYPT_ROUNDS", 4)
        for module in (mail, access, users):
            mp.setattr(module, "get_settings", lambda: settings)
        yield


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, quiet: None
) -> Iterator[World]:
    """One seeded world per database, shared by every cell (each rolls back its writes)."""
    fresh = _fresh_sqlite(tmp_path_factory) if request.param == "sqlite" else _fresh_postgres()
    engine = next(fresh)
    world = _build(engine)
    with engine.connect() as conn:
        built = State.read(conn, whole=True)
    try:
        yield world
        with engine.connect() as conn:  # no cell's write escaped its rollback
            assert written(built, conn) == []
    finally:
        fresh.close()


def _build(engine: Engine) -> World:
    seed_demo(engine, companies=8, beneficiaries=200, today=TODAY)
    factory = make_session_factory(engine)
    plain = UnitOfWork(factory)
    with plain:
        s = plain.session
        ids = dict(s.execute(select(Company.code, Company.id)).all())
        a, a2, a3 = ids["10001"], ids["10002"], ids["10003"]
        b, b2 = ids["10005"], ids["10006"]
        hashed = access.hash_password(PASSWORD)
        codes: dict[str, str] = {}

        def add_user(key: str, role: Role, company_id: int | None, perms: Any) -> User:
            code = str(300_001 + len(codes))
            codes[key] = code
            user = User(
                user_code=code,
                name=f"Pessoa Teste {code}",
                cpf=new_cpf(),
                email=f"u{code}@example.com.br",
                role=role.value,
                permissions=sorted(Permission(p).value for p in perms),
                company_id=company_id,
                status="active",
                password_hash=hashed,
                failed_attempts=0,
                created_at=NOW - timedelta(days=30),
                session_epoch=0,
                password_history=[],
            )
            s.add(user)
            s.flush()
            return user

        am_with = add_user("am_with", Role.ACCOUNT_MANAGER, None, ALL_PERMISSIONS)
        am_without = add_user("am_without", Role.ACCOUNT_MANAGER, None, ALL_PERMISSIONS)
        for manager, portfolio in ((am_with, (a, a2)), (am_without, (b, b2))):
            s.add_all(AccountManagerCompany(user_id=manager.id, company_id=c) for c in portfolio)
        add_user("user_all", Role.USER, a, ALL_PERMISSIONS)
        add_user("user_none", Role.USER, a, [])
        for p in GATES:
            add_user(f"only_{p.value}", Role.USER, a, [p])
            add_user(f"but_{p.value}", Role.USER, a, ALL_PERMISSIONS - {p})
        inactive = add_user("inactive", Role.USER, a, ALL_PERMISSIONS)
        targets = {c: add_user(f"target_{c}", Role.USER, c, []) for c in (a, b)}
        target_rows = {c: (u.id, u.cpf or "", u.email) for c, u in targets.items()}
        pending_ids: dict[int, int] = {}
        for n, c in enumerate((a, b), start=1):
            pending = User(
                user_code=f"39000{n}",
                name=f"Pessoa Pendente {n}",
                cpf=new_cpf(),
                email=f"pendente{n}@example.com.br",
                role=Role.USER.value,
                permissions=[],
                company_id=c,
                status="pending",
                password_hash=None,
                failed_attempts=0,
                created_at=NOW - timedelta(days=1),
                session_epoch=0,
                password_history=[],
            )
            s.add(pending)
            s.flush()
            pending_ids[c] = pending.id
        inactive_id = inactive.id
        plain.commit()
    codes.update(master="100001", master_other="100015")
    actors: dict[str, Actor] = {}
    for key, code in codes.items():
        actor = access.actor_for_user(uow=plain, user_code=code, now=NOW)
        assert actor is not None, key
        actors[key] = actor
    # Inactivated by A's master after its actor was built (the actor lives on in a session).
    users.user_set_active(
        uow=plain.for_company(a).for_company(a),
        actor=actors["master"],
        user_id=inactive_id,
        active=False,
        now=NOW,
    )
    facts_a = _company_facts(factory, actors["master"], a, a2, a3, target_rows[a])
    facts_b = _company_facts(factory, actors["master_other"], b, b2, b2, target_rows[b])
    facts_a.pending_id, facts_b.pending_id = pending_ids[a], pending_ids[b]
    # The notices due on TODAY (overdue invoices...), for the cells of the notices.
    quiet = Settings(**{"_env_file": None, "smtp_host": ""})
    assert notices.notices_generate(uow=plain, now=NOW, today=TODAY, settings=quiet).total
    return World(engine, facts_a, facts_b, actors)


def _company_facts(
    factory: sessionmaker[Session],
    master: Actor,
    company_id: int,
    partner: int,
    origin: int,
    target: tuple[int, str, str],
) -> Facts:
    """The objects the cells act on, made the way the portal makes them (by the master)."""
    uow = UnitOfWork(factory, company_id)
    with uow:
        s = uow.session
        company = s.get(Company, company_id)
        assert company is not None
        code, name, label = company.code, company.name, f"{company.code} · {company.trade_name}"

        def plans_of(cid: int) -> set[int]:
            # The partner's contract too: this fixture crosses companies on purpose.
            return set(
                s.scalars(
                    select(ContractedPlan.plan_id)
                    .where(ContractedPlan.company_id == cid)
                    .execution_options(all_companies=True)
                )
            )

        contracted = plans_of(company_id)
        plan_id = min(contracted & plans_of(partner))
        other_plan_id = min(contracted - {plan_id})
        family_plan_id = min(contracted & plans_of(origin))
        plan_code = s.scalars(select(Plan.code).where(Plan.id == plan_id)).one()
        protocol_id = s.scalars(
            select(Protocol.id)
            .where(Protocol.company_id == company_id, Protocol.status == "open")
            .order_by(Protocol.id)
            .limit(1)
        ).one()
        fresh = Invoice(
            company_id=company_id,
            billing_month=date(2026, 12, 1),
            due_date=date(2026, 12, 10),
            amount=Decimal("321.45"),
            status="open",
            issued_at=NOW,
        )
        s.add(fresh)
        s.flush()
        invoice_open = fresh.id
        uow.commit()

    def include() -> str:
        result = movements.movement_apply(
            uow=uow,
            actor=master,
            request=InclusionRequest(holder_person(), plan_id=plan_id),
            now=NOW,
        )
        return result.card_number

    holder_card = include()
    inactive_card = include()
    # A family split between the group's companies: included in `origin` with a child, the
    # child excluded, the holder transferred here (the child's history stays there).
    origin_uow = UnitOfWork(factory, origin)
    moved_card = movements.movement_apply(
        uow=origin_uow,
        actor=master,
        request=InclusionRequest(holder_person(), plan_id=family_plan_id),
        now=NOW,
    ).card_number
    child_card = movements.movement_apply(
        uow=origin_uow,
        actor=master,
        request=InclusionRequest(child_person(), relationship_code=4, holder_card=moved_card),
        now=NOW,
    ).card_number
    movements.movement_apply(
        uow=origin_uow,
        actor=master,
        request=ExclusionRequest(card_number=child_card, reason="pedido", effective_date=None),
        now=NOW,
    )
    with UnitOfWork(factory) as plain:  # a procedure used while at `origin`
        moved = plain.session.scalars(
            select(Beneficiary).where(Beneficiary.card_number == moved_card)
        ).one()
        plain.session.add(
            UtilizationEvent(
                company_id=origin,
                beneficiary_id=moved.id,
                provider_id=plain.session.scalars(select(Provider.id).limit(1)).one(),
                event_date=TODAY - timedelta(days=1),
                tuss_code="81000065",
                procedure_name="Consulta odontológica inicial",
                procedure_group="Diagnóstico",
                amount=Decimal("80.00"),
            )
        )
        plain.commit()
    movements.movement_apply(
        uow=origin_uow,
        actor=master,
        request=TransferRequest(
            card_number=moved_card, target_company_id=company_id, plan_id=family_plan_id
        ),
        now=NOW,
    )
    # Its data seen once (recorded) and one listing of the company recorded (LGPD).
    holder_id = movements.beneficiary_detail(
        uow=uow, actor=master, card_number=holder_card, now=NOW - timedelta(hours=1)
    ).row.id
    lgpd.personal_data_listing_record(
        uow=uow.for_company(company_id),
        actor=master,
        purpose="listagem",
        detail="Beneficiários ativos",
        now=NOW - timedelta(hours=1),
    )
    movements.movement_apply(
        uow=uow,
        actor=master,
        request=ExclusionRequest(
            card_number=inactive_card,
            reason="pedido",
            effective_date=None,
            dependents_confirmed=True,
        ),
        now=NOW,
    )
    scheduled_protocol = movements.movement_apply(
        uow=uow,
        actor=master,
        request=ExclusionRequest(
            card_number=include(),
            reason="outros",
            effective_date=TODAY + timedelta(days=20),
            dependents_confirmed=True,
        ),
        now=NOW,
    ).protocol_number
    stay_card = include()
    movements.movement_apply(
        uow=uow,
        actor=master,
        request=ExclusionRequest(
            card_number=stay_card,
            reason="demissao",
            effective_date=None,
            dependents_confirmed=True,
            contributed=True,
            contribution_months=36,
        ),
        now=NOW,
    )
    overdue = next(
        o
        for o in payments.overdue_invoice_list(uow=uow, actor=master, today=TODAY)
        if o.payment_dates
    )
    payments.boleto_issue(uow=uow, actor=master, invoice_id=overdue.invoice.id, now=NOW)
    batch_cpf = new_cpf()
    line = {
        "tipo_movimento": "INCLUSAO",
        "cpf": batch_cpf,
        "nome": "MARIANA LOTE TESTE",
        "data_nascimento": "15/03/1985",
        "sexo": "F",
        "nome_mae": "ANA LOTE TESTE",
        "cep": "01310100",
        "municipio": "SAO PAULO",
        "uf": "SP",
        "data_admissao": "02/01/2024",
        "parentesco": "1",
        "codigo_plano": plan_code,
    }
    check = batch.batch_receive(
        uow=uow, actor=master, file_name="lote.csv", content=csv_file([line]), now=NOW
    )
    assert [r.status for r in check.lines] == ["accepted"], check.lines
    # Cost centres besides the demo's: one without holders and one deactivated.
    idle = cost_centres.cost_centre_add(
        uow=uow, actor=master, code="LIVRE", name="Sem titulares", now=NOW
    )
    old = cost_centres.cost_centre_add(
        uow=uow, actor=master, code="ANTIGO", name="Desativado", now=NOW
    )
    cost_centres.cost_centre_deactivate(uow=uow, actor=master, cost_centre_id=old.id, now=NOW)
    return Facts(
        id=company_id,
        code=code,
        name=name,
        label=label,
        partner=partner,
        contracted=contracted,
        plan_id=plan_id,
        other_plan_id=other_plan_id,
        holder_id=holder_id,
        holder_card=holder_card,
        moved_card=moved_card,
        origin=origin,
        inactive_card=inactive_card,
        invoice_open=invoice_open,
        invoice_overdue=overdue.invoice.id,
        pay_date=overdue.payment_dates[0],
        protocol_id=protocol_id,
        batch_id=check.batch.id,
        batch_cpf=batch_cpf,
        user_id=target[0],
        user_cpf=target[1],
        user_email=target[2],
        scheduled_protocol=scheduled_protocol,
        stay_card=stay_card,
        cost_centre_idle=idle.id,
        cost_centre_inactive=old.id,
    )


# ================================================================ what a call wrote

_T = Base.metadata.tables
# How each table's rows belong to a company: a column of its own, a parent's company
# (foreign key, parent table), or None (not company data: counters, the outbox).
_SCOPE: dict[str, str | tuple[str, str] | None] = {
    "company": "id",
    "beneficiary": "company_id",
    "app_user": "company_id",
    "invoice": "company_id",
    "protocol": "company_id",
    "batch_file": "company_id",
    "contracted_plan": "company_id",
    "account_manager_company": "company_id",
    "movement": "company_id",
    "coverage_period": "company_id",
    "audit_record": "company_id",
    "utilization_event": "company_id",
    "personal_data_access": "company_id",
    "notice": "company_id",
    "notice_preference": ("user_id", "app_user"),
    "issued_document": "company_id",
    "cost_centre": "company_id",
    "price_table": ("contracted_plan_id", "contracted_plan"),  # the contract's tables
    "price_band": None,  # rows of a price table (scoped through it)
    "boleto": ("invoice_id", "invoice"),
    "payment": ("invoice_id", "invoice"),
    "invoice_line": ("invoice_id", "invoice"),
    "protocol_event": ("protocol_id", "protocol"),
    "batch_line": ("batch_id", "batch_file"),
    "user_session": ("user_id", "app_user"),
    "password_reset_token": "company_id",
    "counter": None,
    "outbox_email": None,
    "bank_remittance": None,  # the operator's file; its items carry each boleto's company
    "bank_remittance_item": "company_id",
    "bank_return_file": None,  # the bank's file; its lines carry each boleto's company
    "bank_return_line": "company_id",
    "job_run": None,  # the account manager's own queued run; its audit carries each company
}
# Rows the services change (compared whole) and rows they only add (new ids looked at).
_MUTABLE = (
    "company",
    "beneficiary",
    "app_user",
    "invoice",
    "boleto",
    "protocol",
    "batch_file",
    "batch_line",
    "contracted_plan",
    "account_manager_company",
    "user_session",
    "password_reset_token",
    "counter",
    "price_table",
    "movement",  # a scheduled movement takes effect or is cancelled
    "cost_centre",  # renamed, deactivated, reactivated
    "coverage_period",  # a movement ends a period and opens another
    "notice",  # read (the batch's own notice is added when it is applied)
    "notice_preference",
    "bank_return_line",  # a line outside a portfolio is applied by a manager who has it
    "job_run",  # queued, then run
)
_APPEND_ONLY = (
    "bank_remittance",
    "bank_remittance_item",
    "bank_return_file",
    "price_band",
    "audit_record",
    "protocol_event",
    "invoice_line",
    "payment",
    "outbox_email",
    "utilization_event",
    "personal_data_access",
    "issued_document",
)
UNSCOPED = "-"  # a row of a table that is not company data
UNKNOWN = "?"  # rows gone from an append-only table, or a table nobody should touch


def _scoped(name: str) -> Select[Any]:
    """Every column of the table, after the company the row belongs to (`row_owner`)."""
    table: Table = _T[name]
    how = _SCOPE[name]
    if how is None:
        return select(literal(UNSCOPED).label("row_owner"), *table.c)
    if isinstance(how, str):
        return select(table.c[how].label("row_owner"), *table.c)
    fk, parent_name = how
    parent = _T[parent_name]
    return select(parent.c.company_id.label("row_owner"), *table.c).join_from(
        table, parent, table.c[fk] == parent.c.id
    )


def _counts_query() -> Select[Any]:
    parts = []
    for name, table in sorted(_T.items()):
        top = func.max(table.c.id) if "id" in table.c else literal(0)
        parts.append(
            select(
                literal(name).label("t"), func.count().label("n"), func.coalesce(top, 0)
            ).select_from(table)
        )
    return union_all(*parts)  # type: ignore[return-value]


_COUNTS = _counts_query()


@dataclass
class State:
    counts: dict[str, tuple[int, int]]  # table -> (rows, highest id)
    rows: dict[str, dict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]]] = field(
        default_factory=dict
    )

    @classmethod
    def read(cls, conn: Connection, *, whole: bool) -> State:
        counts = {t: (int(n), int(top)) for t, n, top in conn.execute(_COUNTS)}
        state = cls(counts)
        if whole:
            for name in _MUTABLE:
                pk = [c.name for c in _T[name].primary_key.columns]
                state.rows[name] = {
                    tuple(r._mapping[c] for c in pk): (r.row_owner, tuple(r)[1:])
                    for r in conn.execute(_scoped(name))
                }
        return state


def write_mark(conn: Connection) -> Any:
    """Changes when the transaction writes anything, even rolled back to a savepoint
    (PostgreSQL gives a transaction an id at its first write or row lock; SQLite counts
    every row inserted, updated or deleted on the connection)."""
    if conn.dialect.name == "postgresql":
        return conn.execute(text("SELECT txid_current_if_assigned()")).scalar()
    return conn.execute(text("SELECT total_changes()")).scalar()


@contextmanager
def nothing_written(conn: Connection, *, untouched: bool) -> Iterator[None]:
    """Every table has the rows it had, and either nothing was even attempted
    (`untouched`: not a row written, not even rolled back, nor locked on PostgreSQL) or
    every row of the tables the services change is as it was."""
    before, mark = State.read(conn, whole=not untouched), write_mark(conn)
    yield
    if untouched:
        assert write_mark(conn) == mark, "written (or locked) before the refusal"
    assert written(before, conn) == []


def written(before: State, conn: Connection) -> list[tuple[str, Any]]:
    """(table, company) of every row added, changed or removed since `before`."""
    after = State.read(conn, whole=bool(before.rows))
    out: list[tuple[str, Any]] = []
    for name, rows in before.rows.items():
        now = after.rows[name]
        for key in rows.keys() | now.keys():
            old, new = rows.get(key), now.get(key)
            if old != new:
                out += [(name, x[0]) for x in (old, new) if x is not None]
    for name, (n, top) in before.counts.items():
        n_after, top_after = after.counts[name]
        if name in before.rows or (n_after, top_after) == (n, top):
            continue
        if name in _APPEND_ONLY:
            table = _T[name]
            new_rows = conn.execute(_scoped(name).where(table.c.id > top)).all()
            out += [(name, r.row_owner) for r in new_rows]
            if n_after != n + len(new_rows):
                out.append((name, UNKNOWN))
        else:
            out.append((name, UNKNOWN))
    return sorted(out, key=repr)


# ================================================================ the cells


@dataclass
class Env:
    """What a cell knows: the actor, the company asked (its facts) and the database."""

    world: World
    conn: Connection
    factory: sessionmaker[Session]
    actor: Actor
    company: Facts

    @property
    def cid(self) -> int:
        return self.company.id

    def uow(self, company_id: int | None | str = "asked") -> UnitOfWork:
        return UnitOfWork(self.factory, self.cid if company_id == "asked" else company_id)

    def ids(self, query: Select[Any]) -> set[Any]:
        return set(self.conn.execute(query).scalars())

    def count(self, query: Select[Any]) -> int:
        return int(self.conn.execute(query).scalar_one())

    def events(self, period: Period = PERIOD) -> Select[Any]:
        u = UtilizationEvent
        return select(func.count()).where(
            u.company_id == self.cid,
            u.event_date >= period.start,
            u.event_date < period.end_exclusive,
        )


@dataclass(frozen=True)
class Spec:
    run: Callable[[Env], Any]  # calls the service and checks an "ok" answer
    permission: Permission | None  # what a plain user needs
    writes: bool
    trail: str | None  # the table an accepted call always writes a row of the company to
    also: Callable[[Env], set[int]]  # other companies it may write to


SPECS: dict[str, Spec] = {}


def cell(
    name: str,
    permission: Permission | None,
    *,
    writes: bool = False,
    trail: str | None = "audit_record",
    also: Callable[[Env], set[int]] | None = None,
) -> Callable[[Callable[[Env], Any]], Callable[[Env], Any]]:
    def register(run: Callable[[Env], Any]) -> Callable[[Env], Any]:
        assert name not in SPECS, name
        SPECS[name] = Spec(
            run, permission, writes, trail if writes else None, also or (lambda env: set())
        )
        return run

    return register


def _beneficiaries(env: Env) -> set[int]:
    return env.ids(select(Beneficiary.id).where(Beneficiary.company_id == env.cid))


def _cards(env: Env) -> set[str]:
    return env.ids(select(Beneficiary.card_number).where(Beneficiary.company_id == env.cid))


def _invoices(env: Env) -> set[int]:
    return env.ids(select(Invoice.id).where(Invoice.company_id == env.cid))


# ---------------------------------------------------------------- companies

M, F, R, P, U = (
    Permission.MOVEMENTS,
    Permission.FINANCE,
    Permission.REPORTS,
    Permission.PROTOCOLS,
    Permission.USER_ADMIN,
)


@cell("company_details", None)
def _company_details(env: Env) -> None:
    r = companies.company_details(uow=env.uow(), actor=env.actor)
    assert (r.id, r.code, r.name) == (env.cid, env.company.code, env.company.name)


@cell("company_waiting_periods_update", None, writes=True)
def _company_waiting_periods_update(env: Env) -> None:
    # Account managers only (the contract's carência, RN 195 art. 6 / Lei 9.656 art. 12).
    r = companies.company_waiting_periods_update(
        uow=env.uow(),
        actor=env.actor,
        days={"Ortodontia": 120},
        now=NOW,
    )
    assert r["Ortodontia"] == (180, 120)


@cell("company_contact_update", U, writes=True)
def _company_contact_update(env: Env) -> None:
    r = companies.company_contact_update(uow=env.uow(), actor=env.actor, values=CONTACT_A, now=NOW)
    assert r
    assert env.ids(select(Company.phone).where(Company.id == env.cid)) == {CONTACT_A["phone"]}


@cell("company_plans", None)
def _company_plans(env: Env) -> None:
    r = companies.company_plans(uow=env.uow(), actor=env.actor, today=TODAY)
    assert {p.plan_id for p in r} == env.company.contracted


# ---------------------------------------------------------------- users


@cell("user_list", U)
def _user_list(env: Env) -> None:
    r = users.user_list(uow=env.uow(None).for_company(env.cid), actor=env.actor)
    assert {u.id for u in r} == env.ids(select(User.id).where(User.company_id == env.cid))


@cell("user_add", U, writes=True)
def _user_add(env: Env) -> None:
    r = users.user_add(
        uow=env.uow(),
        actor=env.actor,
        name="Nova Pessoa Convidada",
        cpf=new_cpf(),
        email="nova.pessoa@example.com.br",
        permissions=[],
        now=NOW,
    )
    assert env.ids(select(User.company_id).where(User.id == r.id)) == {env.cid}


@cell("user_update", U, writes=True)
def _user_update(env: Env) -> None:
    r = users.user_update(
        uow=env.uow(),
        actor=env.actor,
        user_id=env.company.user_id,
        name="Pessoa Alterada Agora",
        cpf=env.company.user_cpf,
        email=env.company.user_email,
        permissions=[],
        now=NOW,
    )
    assert (r.id, r.name) == (env.company.user_id, "Pessoa Alterada Agora")


@cell("user_set_active", U, writes=True)
def _user_set_active(env: Env) -> None:
    r = users.user_set_active(
        uow=env.uow(),
        actor=env.actor,
        user_id=env.company.user_id,
        active=False,
        now=NOW,
    )
    assert (r.id, r.status) == (env.company.user_id, "inactive")


@cell("user_invitation_resend", U, writes=True)
def _user_invitation_resend(env: Env) -> None:
    r = users.user_invitation_resend(
        uow=env.uow(),
        actor=env.actor,
        user_id=env.company.pending_id,
        now=NOW,
        base_url="https://portal.test",
    )
    assert (r.id, r.status, r.invitation_delivered) == (env.company.pending_id, "pending", True)


@cell("audit_list", None)
def _audit_list(env: Env) -> None:
    r = users.audit_list(uow=env.uow(), actor=env.actor)
    mine = env.count(
        select(func.count()).select_from(AuditRecord).where(AuditRecord.company_id == env.cid)
    )
    assert r.total == len(r.entries) == mine > 0


# ---------------------------------------------------------------- movements


def _affected_in(env: Env, result: movements.MovementResult, company_id: int) -> None:
    ids = {a.id for a in result.affected}
    assert ids
    assert env.ids(select(Beneficiary.company_id).where(Beneficiary.id.in_(ids))) == {company_id}


@cell("movement_apply[inclusion]", M, writes=True)
def _movement_include(env: Env) -> None:
    request = InclusionRequest(holder_person(), plan_id=env.company.plan_id)
    r = movements.movement_apply(uow=env.uow(), actor=env.actor, request=request, now=NOW)
    _affected_in(env, r, env.cid)


@cell("movement_apply[exclusion]", M, writes=True)
def _movement_exclude(env: Env) -> None:
    r = movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=ExclusionRequest(
            card_number=env.company.holder_card,
            reason="pedido",
            effective_date=None,
            dependents_confirmed=True,
        ),
        now=NOW,
    )
    _affected_in(env, r, env.cid)


@cell("movement_apply[update]", M, writes=True)
def _movement_update(env: Env) -> None:
    r = movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=UpdateRequest(
            card_number=env.company.holder_card, changes={"email": "novo.email@example.com.br"}
        ),
        now=NOW,
    )
    assert r.card_number == env.company.holder_card
    _affected_in(env, r, env.cid)


@cell("movement_apply[reactivation]", M, writes=True)
def _movement_reactivate(env: Env) -> None:
    r = movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=ReactivationRequest(card_number=env.company.inactive_card, effective_date=None),
        now=NOW,
    )
    assert r.card_number == env.company.inactive_card
    _affected_in(env, r, env.cid)


@cell("movement_apply[transfer]", M, writes=True, also=lambda env: {env.company.partner})
def _movement_transfer(env: Env) -> None:
    r = movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=TransferRequest(
            card_number=env.company.holder_card,
            target_company_id=env.company.partner,
            plan_id=env.company.plan_id,
        ),
        now=NOW,
    )
    _affected_in(env, r, env.company.partner)


@cell("scheduled_list", M)
def _scheduled_list(env: Env) -> None:
    items = coverage.scheduled_list(uow=env.uow(), actor=env.actor, now=NOW)
    assert [i.protocol_number for i in items] == [env.company.scheduled_protocol]


@cell("scheduled_cancel", M, writes=True)
def _scheduled_cancel(env: Env) -> None:
    r = coverage.scheduled_cancel(
        uow=env.uow(),
        actor=env.actor,
        protocol_number=env.company.scheduled_protocol,
        now=NOW,
    )
    assert r.cancelled_protocol == env.company.scheduled_protocol


@cell("movement_apply[stay]", M, writes=True)
def _movement_stay_accept(env: Env) -> None:
    r = movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=ReactivationRequest(card_number=env.company.stay_card, stay=True),
        now=NOW,
    )
    assert r.stay_accepted
    _affected_in(env, r, env.cid)


@cell("movement_apply[plan_change]", M, writes=True)
def _movement_change_plan(env: Env) -> None:
    r = movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=PlanChangeRequest(
            card_number=env.company.holder_card, plan_id=env.company.other_plan_id
        ),
        now=NOW,
    )
    _affected_in(env, r, env.cid)


@cell("exclusion_preview", M)
def _exclusion_preview(env: Env) -> None:
    r = movements.exclusion_preview(
        uow=env.uow(), actor=env.actor, card_number=env.company.holder_card
    )
    assert [b.card_number for b in r] == [env.company.holder_card]
    assert {b.id for b in r} <= _beneficiaries(env)


@cell("beneficiary_search", M)
def _beneficiary_search(env: Env) -> None:
    r = movements.beneficiary_search(uow=env.uow(), actor=env.actor, limit=500)
    assert r
    assert {b.id for b in r} == _beneficiaries(env)


@cell("beneficiary_detail", M, writes=True, trail="personal_data_access")
def _beneficiary_detail(env: Env) -> None:
    r = movements.beneficiary_detail(
        uow=env.uow(), actor=env.actor, card_number=env.company.moved_card, now=NOW
    )
    assert r.row.card_number == env.company.moved_card
    assert {r.row.id, *(d.id for d in r.dependents)} <= _beneficiaries(env)


@cell("movement_options", M)
def _movement_options(env: Env) -> None:
    r = movements.movement_options(uow=env.uow(), actor=env.actor, today=TODAY)
    assert {p.id for p in r.plans} <= env.company.contracted
    group_id = select(Company.group_id).where(Company.id == env.cid).scalar_subquery()
    group = env.ids(select(Company.id).where(Company.group_id == group_id))
    targets = {cid for cid, _ in r.transfer_targets}
    assert env.company.partner in targets
    assert targets <= (group & env.actor.company_ids) - {env.cid}


@cell("transfer_plans", M)
def _transfer_plans(env: Env) -> None:
    r = movements.transfer_plans(
        uow=env.uow(),
        actor=env.actor,
        card_number=env.company.holder_card,
        target_company_id=env.company.partner,
    )
    partner = env.ids(
        select(ContractedPlan.plan_id).where(
            ContractedPlan.company_id == env.company.partner, ContractedPlan.end_date.is_(None)
        )
    )
    assert {p.id for p in r.plans} == partner
    assert (r.current.id, r.keep_current) == (env.company.plan_id, True)


# ---------------------------------------------------------------- batch


def _batches(env: Env) -> set[int]:
    return env.ids(select(BatchFile.id).where(BatchFile.company_id == env.cid))


@cell("batch_list", M)
def _batch_list(env: Env) -> None:
    r = batch.batch_list(uow=env.uow(), actor=env.actor)
    assert {b.id for b in r} == _batches(env) and env.company.batch_id in _batches(env)


@cell("batch_lines", M)
def _batch_lines(env: Env) -> None:
    r = batch.batch_lines(uow=env.uow(), actor=env.actor, batch_id=env.company.batch_id)
    mine = select(func.count()).where(BatchLine.batch_id == env.company.batch_id)
    assert len(r) == env.count(mine) == 1


@cell("batch_receive", M, writes=True)
def _batch_receive(env: Env) -> None:
    line = {
        "tipo_movimento": "EXCLUSAO",
        "carteirinha": env.company.holder_card,
        "motivo_exclusao": "pedido",
    }
    r = batch.batch_receive(
        uow=env.uow(), actor=env.actor, file_name="lote.csv", content=csv_file([line]), now=NOW
    )
    assert [x.status for x in r.lines] == ["accepted"], r.lines
    assert r.batch.id in _batches(env)


@cell("batch_apply", M, writes=True)
def _batch_apply(env: Env) -> None:
    r = batch.batch_apply(uow=env.uow(), actor=env.actor, batch_id=env.company.batch_id, now=NOW)
    assert (r.batch.id, r.applied, r.refused) == (env.company.batch_id, 1, 0)
    new = select(Beneficiary.company_id).where(Beneficiary.cpf == env.company.batch_cpf)
    assert env.ids(new) == {env.cid}


def _matrix_jobs() -> JobQueue:
    """A task queue no worker serves (its file in the temporary folder): queued batch
    jobs stay queued, and the database writes of each cell are rolled back."""
    path = Path(tempfile.gettempdir()) / f"portal-matrix-queue-{os.getpid()}.db"
    return queue_for("sqlite://", QueueSettings(queue_url="", queue_path=str(path)))


@cell("batch_enqueue", M, writes=True)
def _batch_enqueue(env: Env) -> None:
    r = jobs_batch.batch_enqueue(
        uow=env.uow(), actor=env.actor, batch_id=env.company.batch_id, now=NOW, jobs=_matrix_jobs()
    )
    assert (r.batch_id, r.status, r.state, r.to_apply) == (
        env.company.batch_id,
        "applying",
        JobState.QUEUED,
        1,
    )


@cell("batch_progress", M)
def _batch_progress(env: Env) -> None:
    r = jobs_batch.batch_progress(
        uow=env.uow(), actor=env.actor, batch_id=env.company.batch_id, jobs=_matrix_jobs()
    )
    assert (r.batch_id, r.status, r.state, r.to_apply) == (
        env.company.batch_id,
        "received",
        JobState.NOT_QUEUED,
        1,
    )


@cell("batch_result_file", M)
def _batch_result_file(env: Env) -> None:
    r = batch.batch_result_file(
        uow=env.uow(), actor=env.actor, batch_id=env.company.batch_id, fmt="csv"
    )
    assert env.company.batch_cpf.encode() in r


# ---------------------------------------------------------------- billing


@cell("invoice_years", F)
def _invoice_years(env: Env) -> None:
    r = billing.invoice_years(uow=env.uow(), actor=env.actor)
    months = env.ids(select(Invoice.billing_month).where(Invoice.company_id == env.cid))
    assert set(r) == {m.year for m in months}


@cell("invoice_list", F)
def _invoice_list(env: Env) -> None:
    r = billing.invoice_list(uow=env.uow(), actor=env.actor, today=TODAY)
    assert {i.id for i in r} == _invoices(env)


@cell("invoice_detail", F)
def _invoice_detail(env: Env) -> None:
    invoice_id = env.company.invoice_overdue
    r = billing.invoice_detail(uow=env.uow(), actor=env.actor, invoice_id=invoice_id, today=TODAY)
    lines = select(func.count()).where(InvoiceLine.invoice_id == invoice_id)
    assert (r.invoice.id, r.company_code) == (invoice_id, env.company.code)
    assert len(r.lines) == env.count(lines) > 0


@cell("ledger_rows", F)
def _ledger_rows(env: Env) -> None:
    rows = list(billing.ledger_rows(uow=env.uow().for_company(env.cid), actor=env.actor))
    lines = (
        select(func.count())
        .select_from(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.company_id == env.cid, Invoice.status != "cancelled")
    )
    assert len(rows) == env.count(lines) > 0  # every line of this company, and only those


@cell("run_summary", F)
def _run_summary(env: Env) -> None:
    invoice_id = env.company.invoice_overdue
    month = env.conn.execute(
        select(Invoice.billing_month).where(Invoice.id == invoice_id)
    ).scalar_one()
    r = billing.run_summary(
        uow=env.uow(), actor=env.actor, billing_month=month, invoice_ids=[invoice_id]
    )
    lines = select(func.count()).where(InvoiceLine.invoice_id == invoice_id)
    assert sum(r.kinds[invoice_id].values()) == env.count(lines) > 0


@cell("billing_report_options", F)
def _billing_report_options(env: Env) -> None:
    r = billing.billing_report_options(uow=env.uow(), actor=env.actor)
    billed = env.ids(
        select(InvoiceLine.plan_id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.company_id == env.cid)
    )
    months = env.ids(select(Invoice.billing_month).where(Invoice.company_id == env.cid))
    assert {p.id for p in r.plans} <= env.company.contracted | billed
    assert (r.months[0], r.months[-1]) == (min(months), max(months))


@cell("billing_report", F)
def _billing_report(env: Env) -> None:
    start, end = date(2026, 1, 1), date(2026, 11, 1)
    r = billing.billing_report(uow=env.uow(), actor=env.actor, start=start, end=end)
    amounts = env.conn.execute(
        select(InvoiceLine.amount)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.company_id == env.cid,
            Invoice.status != "cancelled",
            Invoice.billing_month.between(start, end),
        )
    ).scalars()
    assert r.total == sum(amounts, Decimal("0.00")) > 0


@cell("billing_run", F, writes=True)
def _billing_run(env: Env) -> None:
    r = billing.billing_run(
        uow=env.uow(None),
        actor=env.actor,
        billing_month=date(2027, 1, 1),
        company_ids=[env.cid],
        now=NOW,
    )
    assert [b.company_id for b in r.billed] == [env.cid]
    assert not r.skipped


@cell("billing_run_enqueue", F, writes=True)
def _billing_run_enqueue(env: Env) -> None:
    r = jobs_billing_run.billing_run_enqueue(
        uow=env.uow(None),
        actor=env.actor,
        billing_month=date(2027, 1, 1),
        company_ids=[env.cid],
        now=NOW,
        jobs=_matrix_jobs(),
    )
    assert (r.status, r.company_ids, r.billing_month) == ("queued", [env.cid], date(2027, 1, 1))


# ---------------------------------------------------------------- payments


@cell("boleto_issue", F, writes=True)
def _boleto_issue(env: Env) -> None:
    r = payments.boleto_issue(
        uow=env.uow(), actor=env.actor, invoice_id=env.company.invoice_open, now=NOW
    )
    assert (r.invoice_id, r.payer_name) == (env.company.invoice_open, env.company.name)


@cell("boleto_send_email", F, writes=True)
def _boleto_send_email(env: Env) -> None:
    r = payments.boleto_send_email(
        uow=env.uow(),
        actor=env.actor,
        invoice_id=env.company.invoice_overdue,
        to="financeiro@example.com.br",
        pdf=PDF,
        now=NOW,
    )
    assert (r.to_address, r.delivered) == ("financeiro@example.com.br", True)


@cell("overdue_invoice_list", F)
def _overdue_invoice_list(env: Env) -> None:
    r = payments.overdue_invoice_list(uow=env.uow(), actor=env.actor, today=TODAY)
    ids = {o.invoice.id for o in r}
    assert env.company.invoice_overdue in ids and ids <= _invoices(env)


@cell("overdue_quote", F)
def _overdue_quote(env: Env) -> None:
    r = payments.overdue_quote(
        uow=env.uow(),
        actor=env.actor,
        invoice_id=env.company.invoice_overdue,
        pay_date=env.company.pay_date,
        today=TODAY,
    )
    assert (r.invoice_id, r.pay_date) == (env.company.invoice_overdue, env.company.pay_date)


@cell("overdue_reissue", F, writes=True)
def _overdue_reissue(env: Env) -> None:
    r = payments.overdue_reissue(
        uow=env.uow(),
        actor=env.actor,
        invoice_id=env.company.invoice_overdue,
        pay_date=env.company.pay_date,
        now=NOW,
    )
    assert r.boleto.invoice_id == env.company.invoice_overdue
    assert env.ids(select(Protocol.company_id).where(Protocol.number == r.protocol_number)) == {
        env.cid
    }


@cell("payment_status", F)
def _payment_status(env: Env) -> None:
    r = payments.payment_status(uow=env.uow(), actor=env.actor, today=TODAY)
    paid = {p.invoice_id for p in r.paid}
    unpaid = {i.id for i in r.open + r.overdue}
    assert paid and env.company.invoice_overdue in unpaid
    assert paid | unpaid <= _invoices(env)


# ---------------------------------------------------------------- protocols


def _protocols(env: Env) -> set[int]:
    return env.ids(select(Protocol.id).where(Protocol.company_id == env.cid))


@cell("protocol_list", P)
def _protocol_list(env: Env) -> None:
    r = protocols.protocol_list(uow=env.uow(), actor=env.actor, today=TODAY)
    assert {p.id for p in r} == _protocols(env)


@cell("protocol_detail", P)
def _protocol_detail(env: Env) -> None:
    r = protocols.protocol_detail(
        uow=env.uow(), actor=env.actor, protocol_id=env.company.protocol_id, today=TODAY
    )
    assert r.protocol.id == env.company.protocol_id and r.events


@cell("protocol_request_open", P, writes=True)
def _protocol_request_open(env: Env) -> None:
    r = protocols.protocol_request_open(
        uow=env.uow(),
        actor=env.actor,
        kind="card_copy",
        subject="Segunda via de carteirinha",
        description="Perdi a carteirinha do titular.",
        now=NOW,
    )
    assert r.id in _protocols(env)


@cell("protocol_add_note", P, writes=True)
def _protocol_add_note(env: Env) -> None:
    protocols.protocol_add_note(
        uow=env.uow(),
        actor=env.actor,
        protocol_id=env.company.protocol_id,
        note="Mais uma informação.",
        now=NOW,
    )


# ---------------------------------------------------------------- reports and analytics


@cell("company_scope", R)
def _company_scope(env: Env) -> None:
    assert reports.company_scope(uow=env.uow(), actor=env.actor) == (env.cid,)


@cell("company_scope[portfolio]", R)
def _company_scope_portfolio(env: Env) -> None:
    r = reports.company_scope(uow=env.uow(None), actor=env.actor, company_ids=[env.cid])
    assert r == (env.cid,)


@cell("beneficiary_options", R)
def _beneficiary_options(env: Env) -> None:
    r = reports.beneficiary_options(uow=env.uow(), actor=env.actor)
    assert set(r.plans) == env.company.contracted


def _accesses(env: Env) -> int:
    return env.count(select(func.count()).where(PersonalDataAccess.company_id == env.cid))


@cell("beneficiary_report", R, writes=True, trail=None)
def _beneficiary_report(env: Env) -> None:
    before = _accesses(env)
    r = reports.beneficiary_report(
        uow=env.uow(), actor=env.actor, status=ACTIVE, filters=BeneficiaryFilters(), today=TODAY
    )
    active = select(func.count()).where(
        Beneficiary.company_id == env.cid, Beneficiary.status == ACTIVE
    )
    assert r.total == len(r.table) == env.count(active) > 0
    assert {c.replace(" ", "") for c in r.table["Carteirinha"]} <= _cards(env)
    # A listing with CPF and birth date unmasked is recorded as an access (LGPD).
    assert r.personal_data == env.actor.can(Permission.PERSONAL_DATA)
    assert _accesses(env) == before + r.personal_data


def _overview(env: Env, company_ids: list[int] | None) -> None:
    uow = env.uow() if company_ids is None else env.uow(None)
    r = reports.utilization_overview(
        uow=uow, actor=env.actor, period=PERIOD, company_ids=company_ids
    )
    assert r.company_ids == (env.cid,)
    assert set(r.usage["company_id"]) | set(r.premiums["company_id"]) == {env.cid}
    assert r.summary().procedures == env.count(env.events()) > 0


def _by_procedure(env: Env, company_ids: list[int] | None) -> None:
    uow = env.uow() if company_ids is None else env.uow(None)
    r = reports.utilization_by_procedure(
        uow=uow, actor=env.actor, period=PERIOD, company_ids=company_ids
    )
    assert r["Quantidade"].sum() == env.count(env.events()) > 0


def _by_provider(env: Env, company_ids: list[int] | None) -> None:
    uow = env.uow() if company_ids is None else env.uow(None)
    r = reports.utilization_by_provider(
        uow=uow, actor=env.actor, period=PERIOD, top=500, company_ids=company_ids
    )
    u = UtilizationEvent
    used = env.ids(
        select(Provider.name)
        .join(u, u.provider_id == Provider.id)
        .where(u.company_id == env.cid, u.event_date >= PERIOD.start)
    )
    assert r["Procedimentos"].sum() == env.count(env.events()) > 0
    assert set(r["Prestador"]) <= used


def _by_beneficiary(env: Env, company_ids: list[int] | None) -> None:
    uow = env.uow() if company_ids is None else env.uow(None)
    r = reports.utilization_by_beneficiary(
        uow=uow, actor=env.actor, period=PERIOD, top=500, company_ids=company_ids
    )
    u = UtilizationEvent
    used = env.ids(
        select(Beneficiary.card_number)
        .join(u, u.beneficiary_id == Beneficiary.id)
        .where(u.company_id == env.cid, u.event_date >= PERIOD.start)
    )
    assert r["Procedimentos"].sum() == env.count(env.events()) > 0
    assert {c.replace(" ", "") for c in r["Carteirinha"]} <= used


for _name, _check in (
    ("utilization_overview", _overview),
    ("utilization_by_procedure", _by_procedure),
    ("utilization_by_provider", _by_provider),
    ("utilization_by_beneficiary", _by_beneficiary),
):
    cell(_name, R)(lambda env, check=_check: check(env, None))
    cell(f"{_name}[portfolio]", R)(lambda env, check=_check: check(env, [env.cid]))


@cell("portfolio_lives", R)
def _portfolio_lives(env: Env) -> None:
    r = analytics.portfolio_lives(
        uow=env.uow(None), actor=env.actor, period=PERIOD, company_ids=[env.cid], today=TODAY
    )
    assert list(r["company_id"]) == [env.cid]


@cell("utilization_compare", R)
def _utilization_compare(env: Env) -> None:
    series = [
        analytics.CompareSeries("Antes", (env.cid,), PREVIOUS),
        analytics.CompareSeries("Agora", (env.cid,), PERIOD),
    ]
    r = analytics.utilization_compare(uow=env.uow(None), actor=env.actor, series=series)
    assert list(r["Procedimentos"]) == [env.count(env.events(PREVIOUS)), env.count(env.events())]


@cell("utilization_pivot", R)
def _utilization_pivot(env: Env) -> None:
    request = analytics.PivotRequest(
        rows="company", measure="procedures", period=PERIOD, company_ids=(env.cid,)
    )
    r = analytics.utilization_pivot(uow=env.uow(None), actor=env.actor, request=request)
    assert r.long.values.tolist() == [[env.company.label, env.count(env.events())]]


# ---------------------------------------------------------------- lgpd


@cell("personal_data_listing_record", None, writes=True, trail="personal_data_access")
def _personal_data_listing_record(env: Env) -> None:
    lgpd.personal_data_listing_record(
        uow=env.uow(None).for_company(env.cid),
        actor=env.actor,
        purpose="exportacao",
        detail="Planilha de beneficiários",
        now=NOW,
    )


@cell("beneficiary_dossier", None, writes=True, trail="personal_data_access")
def _beneficiary_dossier(env: Env) -> None:
    r = lgpd.beneficiary_dossier(
        uow=env.uow(None).for_company(env.cid),
        actor=env.actor,
        term=env.company.holder_card,
        now=NOW,
    )
    assert (r.beneficiary_id, r.card_number) == (env.company.holder_id, env.company.holder_card)
    assert r.company_label.startswith(env.company.code)
    assert len(r.accesses) == 2
    # The holder transferred in: what the company holds about it, nothing of `origin`.
    moved = lgpd.beneficiary_dossier(
        uow=env.uow(None).for_company(env.cid),
        actor=env.actor,
        term=env.company.moved_card,
        now=NOW,
    )
    assert {link["carteirinha"] for link in moved.sections["Vínculos"]} <= _cards(env)
    bid = moved.beneficiary_id
    here = {
        "Movimentações": select(func.count()).where(
            Movement.beneficiary_id == bid, Movement.company_id == env.cid
        ),
        "Protocolos": select(func.count(func.distinct(Protocol.id)))
        .join(Movement, Movement.protocol_id == Protocol.id)
        .where(Movement.beneficiary_id == bid, Protocol.company_id == env.cid),
        "Utilização": select(func.count()).where(
            UtilizationEvent.beneficiary_id == bid, UtilizationEvent.company_id == env.cid
        ),
        "Auditoria": select(func.count()).where(
            AuditRecord.entity == "beneficiary",
            AuditRecord.entity_id == str(bid),
            AuditRecord.company_id == env.cid,
        ),
    }
    assert {k: len(moved.sections[k]) for k in here} == {k: env.count(q) for k, q in here.items()}
    assert moved.sections["Movimentações"]  # the transfer in


# ---------------------------------------------------------------- home


@cell("important_dates", None)
def _important_dates(env: Env) -> None:
    r = home.important_dates(uow=env.uow().for_company(env.cid), actor=env.actor, today=TODAY)
    open_ = select(func.count()).where(Invoice.company_id == env.cid, Invoice.status == "open")
    numbers = env.ids(select(Protocol.number).where(Protocol.company_id == env.cid))
    assert r.open_invoices + r.overdue_invoices == env.count(open_) > 0
    assert {p.number for p in r.protocols_due} <= numbers


@cell("ageing_dependents", R)
def _ageing_dependents(env: Env) -> None:
    r = ageing.ageing_dependents(
        uow=env.uow(), actor=env.actor, today=TODAY, end=TODAY + timedelta(days=40 * 366)
    )
    assert {d.beneficiary_id for d in r} <= _beneficiaries(env)


# ---------------------------------------------------------------- exclusion proof


@cell("exclusion_proof_view", M)
def _exclusion_proof_view(env: Env) -> None:
    numbers = env.ids(
        select(Protocol.number)
        .join(Movement, Movement.protocol_id == Protocol.id)
        .join(Beneficiary, Beneficiary.id == Movement.beneficiary_id)
        .where(Beneficiary.card_number == env.company.inactive_card, Movement.kind == "exclusion")
    )
    assert len(numbers) == 1
    r = exclusion_proof.exclusion_proof_view(
        uow=env.uow(), actor=env.actor, today=TODAY, protocol_number=numbers.pop()
    )
    assert env.company.inactive_card in {p.card_number for p in r.people}


# ---------------------------------------------------------------- documents on demand

DOCUMENT_YEAR = 2025  # a year the seed paid in full for every company


def _paid_holder(env: Env) -> int:
    """A holder with lines on the company's invoices paid in DOCUMENT_YEAR."""
    return min(
        env.ids(
            select(Beneficiary.id)
            .join(InvoiceLine, InvoiceLine.beneficiary_id == Beneficiary.id)
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(
                Invoice.company_id == env.cid,
                Invoice.status == "paid",
                Invoice.paid_on.between(date(DOCUMENT_YEAR, 1, 1), date(DOCUMENT_YEAR, 12, 31)),
                Beneficiary.relationship_code == 1,
            )
        )
    )


def _issued(env: Env) -> list[Any]:
    return list(
        env.conn.execute(
            select(IssuedDocument.company_id, IssuedDocument.beneficiary_id).order_by(
                IssuedDocument.id
            )
        ).all()
    )


@cell("income_tax_years", F)
def _income_tax_years(env: Env) -> None:
    r = issued_documents.income_tax_years(uow=env.uow(), actor=env.actor)
    assert DOCUMENT_YEAR in r


@cell("income_tax_holders", F)
def _income_tax_holders(env: Env) -> None:
    r = issued_documents.income_tax_holders(uow=env.uow(), actor=env.actor, year=DOCUMENT_YEAR)
    assert _paid_holder(env) in {h.id for h in r}


@cell("income_tax_issue", F, writes=True)
def _income_tax_issue(env: Env) -> None:
    holder = _paid_holder(env)
    r = issued_documents.income_tax_issue(
        uow=env.uow(),
        actor=env.actor,
        holder_id=holder,
        year=DOCUMENT_YEAR,
        now=NOW,
        base_url="https://portal.test",
        render=lambda _view: PDF,
    )
    assert len(r.codes) == 1 and _issued(env) == [(env.cid, holder)]


@cell("income_tax_issue_all", F, writes=True)
def _income_tax_issue_all(env: Env) -> None:
    r = issued_documents.income_tax_issue_all(
        uow=env.uow(),
        actor=env.actor,
        year=DOCUMENT_YEAR,
        now=NOW,
        base_url="https://portal.test",
        render=lambda _view: PDF,
    )
    issued = _issued(env)
    assert len(r.codes) == len(issued) > 0 and {c for c, _ in issued} == {env.cid}


@cell("discharge_status", F)
def _discharge_status(env: Env) -> None:
    r = issued_documents.discharge_status(
        uow=env.uow(), actor=env.actor, year=DOCUMENT_YEAR, today=TODAY
    )
    assert r.eligible and r.invoices
    assert {i.id for i in r.invoices} <= _invoices(env)


@cell("discharge_issue", F, writes=True)
def _discharge_issue(env: Env) -> None:
    r = issued_documents.discharge_issue(
        uow=env.uow(),
        actor=env.actor,
        year=DOCUMENT_YEAR,
        now=NOW,
        base_url="https://portal.test",
        render=lambda _view: PDF,
    )
    assert len(r.codes) == 1 and _issued(env) == [(env.cid, None)]


@cell("permanence_issue", M, writes=True)
def _permanence_issue(env: Env) -> None:
    r = issued_documents.permanence_issue(
        uow=env.uow(),
        actor=env.actor,
        term=env.company.holder_card,
        now=NOW,
        base_url="https://portal.test",
        render=lambda _view: PDF,
    )
    holder = env.ids(
        select(Beneficiary.id).where(Beneficiary.card_number == env.company.holder_card)
    )
    assert len(r.codes) == 1 and _issued(env) == [(env.cid, holder.pop())]


@cell("issued_document_list", M)
def _issued_document_list(env: Env) -> None:
    # The kinds the actor may issue (the user with only movements: proofs of exclusion).
    r = issued_documents.issued_document_list(uow=env.uow(), actor=env.actor)
    codes = env.ids(select(IssuedDocument.code).where(IssuedDocument.company_id == env.cid))
    assert {c.code.replace("-", "") for c in r} <= codes


@cell("exclusion_proof_issue", M, writes=True)
def _exclusion_proof_issue(env: Env) -> None:
    # The proof of exclusion with a code: as exclusion_proof_view, movements or protocols.
    numbers = env.ids(
        select(Protocol.number)
        .join(Movement, Movement.protocol_id == Protocol.id)
        .join(Beneficiary, Beneficiary.id == Movement.beneficiary_id)
        .where(Beneficiary.card_number == env.company.inactive_card, Movement.kind == "exclusion")
    )
    r = issued_documents.exclusion_proof_issue(
        uow=env.uow(),
        actor=env.actor,
        protocol_number=numbers.pop(),
        now=NOW,
        base_url="https://portal.test",
        render=lambda _view: PDF,
    )
    assert len(r.codes) == 1 and _issued(env) == [(env.cid, None)]


# ---------------------------------------------------------------- prices


@cell("price_tables_list", None)
def _price_tables_list(env: Env) -> None:
    r = prices.price_tables_list(
        uow=env.uow(None).for_company(env.cid), actor=env.actor, today=TODAY
    )
    assert r.company_id == env.cid
    assert {p.plan_id for p in r.plans} == env.company.contracted


@cell("price_table_save", None, writes=True)
def _price_table_save(env: Env) -> None:
    [cp_id] = env.ids(
        select(ContractedPlan.id).where(
            ContractedPlan.company_id == env.cid, ContractedPlan.plan_id == env.company.plan_id
        )
    )
    r = prices.price_table_save(
        uow=env.uow(),
        actor=env.actor,
        contracted_plan_id=cp_id,
        kind="single",
        prices=[Decimal("45.00")],
        valid_from=date(2035, 1, 1),
        now=NOW,
    )
    assert r.prices == (Decimal("45.00"),)


@cell("band_change_set", None, writes=True)
def _band_change_set(env: Env) -> None:
    prices.band_change_set(
        uow=env.uow(None).for_company(env.cid), actor=env.actor, rule="birthday_month", now=NOW
    )
    assert env.ids(select(Company.band_change).where(Company.id == env.cid)) == {"birthday_month"}


# ---------------------------------------------------------------- cost centres


def _cost_centres_of(env: Env) -> set[int]:
    return env.ids(select(CostCentre.id).where(CostCentre.company_id == env.cid))


@cell("cost_centre_list", M)
def _cost_centre_list(env: Env) -> None:
    r = cost_centres.cost_centre_list(uow=env.uow(), actor=env.actor)
    assert r.rows and {x.id for x in r.rows} == _cost_centres_of(env)


@cell("cost_centre_add", M, writes=True)
def _cost_centre_add(env: Env) -> None:
    r = cost_centres.cost_centre_add(
        uow=env.uow(), actor=env.actor, code="MATRIZ", name="Matriz", now=NOW
    )
    assert r.id in _cost_centres_of(env)


@cell("cost_centre_rename", M, writes=True)
def _cost_centre_rename(env: Env) -> None:
    r = cost_centres.cost_centre_rename(
        uow=env.uow(),
        actor=env.actor,
        cost_centre_id=env.company.cost_centre_idle,
        name="Renomeado",
        now=NOW,
    )
    assert r.id in _cost_centres_of(env) and r.name == "Renomeado"


@cell("cost_centre_deactivate", M, writes=True)
def _cost_centre_deactivate(env: Env) -> None:
    r = cost_centres.cost_centre_deactivate(
        uow=env.uow(), actor=env.actor, cost_centre_id=env.company.cost_centre_idle, now=NOW
    )
    assert r.id in _cost_centres_of(env) and not r.active


@cell("cost_centre_reactivate", M, writes=True)
def _cost_centre_reactivate(env: Env) -> None:
    r = cost_centres.cost_centre_reactivate(
        uow=env.uow(), actor=env.actor, cost_centre_id=env.company.cost_centre_inactive, now=NOW
    )
    assert r.id in _cost_centres_of(env) and r.active


@cell("cost_centre_import", M, writes=True)
def _cost_centre_import(env: Env) -> None:
    r = cost_centres.cost_centre_import(
        uow=env.uow(),
        actor=env.actor,
        file_name="centros.csv",
        content="codigo;nome\nMATRIZ;Matriz\nADM;Administração\n".encode(),
        now=NOW,
    )
    assert (r.added, r.unchanged) == (1, 1)
    assert "MATRIZ" in env.ids(select(CostCentre.code).where(CostCentre.company_id == env.cid))


# ---------------------------------------------------------------- roster reconciliation


def _roster_holder(env: Env) -> HolderRecord:
    cpf, name = env.conn.execute(
        select(Beneficiary.cpf, Beneficiary.name).where(
            Beneficiary.card_number == env.company.holder_card
        )
    ).one()
    return HolderRecord(cpf, name, env.company.holder_card, "active")


@cell("roster_reconcile", M, writes=True)
def _roster_reconcile(env: Env) -> None:
    holder = _roster_holder(env)
    r = roster_service.roster_reconcile(
        uow=env.uow(),
        actor=env.actor,
        file_name="folha.csv",
        content=f"cpf;data_demissao\n{holder.cpf};01/11/2026\n".encode(),
        now=NOW,
    )
    cards = {o.holder.card for o in r.exclusions} | {u.holder.card for u in r.updates}
    assert holder.card in cards and cards <= _cards(env)
    assert r.inclusions == [] and r.errors == []


@cell("roster_to_batch", M, writes=True)
def _roster_to_batch(env: Env) -> None:
    offer = ExclusionOffer(_roster_holder(env), "não está na folha")
    r = roster_service.roster_to_batch(
        uow=env.uow(),
        actor=env.actor,
        now=NOW,
        exclusions=[roster_service.ChosenExclusion(offer, "pedido")],
    )
    assert r.check is not None and [x.status for x in r.check.lines] == ["accepted"], r
    assert r.check.batch.id in _batches(env)


@cell("cost_centre_requirement_set", M, writes=True)
def _cost_centre_requirement_set(env: Env) -> None:
    assert cost_centres.cost_centre_requirement_set(
        uow=env.uow(), actor=env.actor, required=True, now=NOW
    )
    assert env.ids(select(Company.cost_centre_required).where(Company.id == env.cid)) == {True}


# ---------------------------------------------------------------- bank files (CNAB 240)


def _remessa_id(env: Env) -> int:
    """A remessa of the company asked, generated by the actor when it may (else any id:
    the call under test must refuse before looking)."""
    if not (env.actor.is_account_manager and env.cid in env.actor.company_ids):
        return 1
    return bank_files.remessa_generate(
        uow=env.uow(None), actor=env.actor, now=NOW, company_ids=[env.cid]
    ).remittance_id


@cell("remessa_preview", F)
def _remessa_preview(env: Env) -> None:
    r = bank_files.remessa_preview(uow=env.uow(None), actor=env.actor, company_ids=[env.cid])
    assert r and {x.company_id for x in r} == {env.cid}
    assert env.company.invoice_overdue in env.ids(
        select(Boleto.invoice_id).where(Boleto.id.in_([x.boleto_id for x in r]))
    )


@cell("remessa_generate", F, writes=True)
def _remessa_generate(env: Env) -> None:
    r = bank_files.remessa_generate(
        uow=env.uow(None), actor=env.actor, now=NOW, company_ids=[env.cid]
    )
    assert r.rows and {x.company_id for x in r.rows} == {env.cid}
    [document] = env.ids(select(Company.document).where(Company.id == env.cid))
    assert document in r.content.decode("ascii")  # the payer of segment Q


@cell("remessa_list", F, writes=True)
def _remessa_list(env: Env) -> None:
    made = _remessa_id(env)
    r = bank_files.remessa_list(uow=env.uow(None), actor=env.actor, company_ids=[env.cid])
    assert [x.remittance_id for x in r] == [made]


@cell("remessa_file", F, writes=True)
def _remessa_file(env: Env) -> None:
    made = _remessa_id(env)
    r = bank_files.remessa_file(
        uow=env.uow(None), actor=env.actor, remittance_id=made, company_ids=[env.cid]
    )
    assert r.remittance_id == made and {x.company_id for x in r.rows} == {env.cid}


def _apply_retorno(env: Env) -> bank_files.RetornoResult:
    """A retorno paying the company's overdue invoice (its active boleto), read by the actor."""
    op = env.conn.execute(select(Operator).order_by(Operator.id).limit(1)).one()
    account = Account(
        op.bank_code, "Banco", op.name, op.cnpj, op.bank_agreement, op.bank_wallet,
        op.bank_branch, op.bank_account,
    )  # fmt: skip
    our_number, amount = env.conn.execute(
        select(Boleto.our_number, Boleto.amount).where(
            Boleto.invoice_id == env.company.invoice_overdue, Boleto.status == "active"
        )
    ).one()
    paid = Paid(bank_title_id(account, our_number), amount, amount * 2, TODAY)
    return bank_files.retorno_apply(
        uow=env.uow(None),
        actor=env.actor,
        file_name="retorno.ret",
        content=retorno_file(account, [paid]),
        now=NOW,
        company_ids=[env.cid],
    )


@cell("retorno_apply", F, writes=True)
def _retorno_apply(env: Env) -> None:
    r = _apply_retorno(env)
    assert [(x.status, x.company_code) for x in r.lines] == [("paid", env.company.code)]
    statuses = env.ids(select(Invoice.status).where(Invoice.id == env.company.invoice_overdue))
    assert statuses == {"paid"}


@cell("retorno_list", F, writes=True)
def _retorno_list(env: Env) -> None:
    if env.actor.is_account_manager and env.cid in env.actor.company_ids:
        _apply_retorno(env)  # else the call under test must refuse before looking
    r = bank_files.retorno_list(uow=env.uow(None), actor=env.actor, company_ids=[env.cid])
    assert [(x.file_name, x.statuses) for x in r] == [("retorno.ret", {"paid": 1, "unknown": 0})]


# ---------------------------------------------------------------- notices


def _my_notices(env: Env) -> set[int]:
    """The actor's notices of the company, through a permission it holds (all unread)."""
    return env.ids(
        select(Notice.id).where(
            Notice.user_id == env.actor.user_id,
            Notice.company_id == env.cid,
            Notice.audience.in_(sorted(p.value for p in env.actor.permissions)),
        )
    )


@cell("notice_unread_count", None)
def _notice_unread_count(env: Env) -> None:
    assert notices.notice_unread_count(uow=env.uow(), actor=env.actor) == len(_my_notices(env))


@cell("notice_list", None)
def _notice_list(env: Env) -> None:
    r = notices.notice_list(uow=env.uow(), actor=env.actor)
    assert {n.id for n in r} == _my_notices(env)


@cell("notice_mark_read", None, writes=True, trail=None)
def _notice_mark_read(env: Env) -> None:
    mine = _my_notices(env)
    r = notices.notice_mark_read(
        uow=env.uow(), actor=env.actor, notice_id=min(mine, default=0), now=NOW
    )
    assert r is bool(mine)


@cell("notice_mark_all_read", None, writes=True, trail=None)
def _notice_mark_all_read(env: Env) -> None:
    mine = _my_notices(env)
    assert notices.notice_mark_all_read(uow=env.uow(), actor=env.actor, now=NOW) == len(mine)


# ================================================================ running the cells


def actor_for(world: World, role: str, spec: Spec) -> Actor:
    """The actor of a row for a function: users hold exactly (or all but) what it needs."""
    if role == "user_with":
        key = "user_all" if spec.permission is None else f"only_{spec.permission.value}"
    elif role == "user_without":
        key = "user_none" if spec.permission is None else f"but_{spec.permission.value}"
    else:
        key = role
    return world.actors[key]


def run_cell(world: World, spec: Spec, actor: Actor, company: Facts, expected: str) -> None:
    with world.transaction() as (conn, factory):
        env = Env(world, conn, factory, actor, company)
        if expected == "refused":
            # Refused by the access rules before any row is written or even locked.
            with nothing_written(conn, untouched=True), pytest.raises(DomainError) as refused:
                spec.run(env)
            assert ACCESS_REFUSAL.search(refused.value.message), refused.value.message
            return
        if not spec.writes:
            before = State.read(conn, whole=False)
            spec.run(env)
            assert written(before, conn) == [], "a read wrote"
            return
        before = State.read(conn, whole=True)
        spec.run(env)
        changes = written(before, conn)
        allowed = {env.cid, *spec.also(env), UNSCOPED}
        assert {company for _, company in changes} <= allowed, changes
        if spec.trail:
            assert any(t == spec.trail and c in allowed for t, c in changes), changes


CELLS = [
    pytest.param(function, role, company, id=f"{function}-{role}-{company}")
    for function in FUNCTIONS
    for role in ROLES
    for company in COMPANIES
]


@pytest.mark.parametrize(("function", "role", "company"), CELLS)
def test_cell(world: World, function: str, role: str, company: str) -> None:
    spec = SPECS[function]
    expected = EXPECTED[function, role, company]
    run_cell(world, spec, actor_for(world, role, spec), world.facts(company), expected)


# ================================================================ the table itself

# Public service functions with an actor or a unit of work that have no row, and why.
LEFT_OUT = {
    # Operator-wide, no company data: account managers only (test_operator_settings.py).
    "operator_settings.operator_settings_get": "the operator's bank agreement, no company data",
    "operator_settings.operator_settings_update": "the operator's bank agreement, no company data",
    # No company argument: covered by test_the_company_lists_hold_only_the_actors_companies.
    "companies.company_list_for_actor": "lists the actor's own companies",
    "reports.analytics.portfolio_companies": "lists the account manager's own portfolio",
    # Steps inside a service, given its session after that service's own check.
    "movements.coverage.settle": "scheduled movements due today take effect; no actor, no company "
    "data returned (test_coverage.py)",
    "batch.processing.check_line": "one line of batch_receive/batch_apply, after their check",
    "lgpd.personal_data_access_record": "adds to the caller's transaction, after its check",
    "billing.run.billing_companies": "the check of billing_run and billing_run_enqueue, "
    "whose cells prove it",
    # A cache key for the report pages' cached loaders, called with the companies the page
    # already checked; it returns one number (the newest audit record id), no company data.
    "audit.companies_data_version": "the report caches' key: one number, no company data "
    "(tests/pages/test_report_cache.py)",
    # Pure answers for the users page, no data read; the writes check them again
    # (tests/services/test_user_permissions.py).
    "access.users.user_grantable_permissions": "what the actor may grant, no data read",
    "access.users.user_may_create_master": "whether the actor may make masters, no data read",
    "access.users.user_edit_rights": "what the actor may change in a listed user, no data read",
    # The actor's own billing runs (queued by billing_run_enqueue, whose cell checks the
    # companies), no company argument: tests/services/test_billing_run_job.py.
    "jobs.billing_run.billing_run_status": "the account manager's own queued billing run",
    "jobs.billing_run.billing_run_latest": "the account manager's own newest billing run",
    # The actor's own user and session, no company data.
    "access.accounts.actor_refresh": "the frame's session check (test_an_inactive_user_is_out...)",
    "access.accounts.session_end": "ends the actor's own session",
    "access.accounts.session_token": "the actor's own login cookie",
    "access.accounts.session_cookie_value": "the actor's own session token signed into the "
    "login cookie with its expiry, no data read (tests/services/test_access.py)",
    "access.accounts.password_change": "changes the actor's own password",
    # Before anyone is logged in (public access pages): no actor by nature.
    "access.accounts.auth_login": "login",
    "access.accounts.actor_for_user": "command line and tests",
    "access.accounts.actor_from_session_token": "login cookie",
    "access.accounts.access_link_check": "public: what an activation or invitation link opens",
    "access.accounts.company_activation_request": "public first access (link to the contact)",
    "access.accounts.company_activation_confirm": "public first access (from the e-mailed link)",
    "access.accounts.user_invitation_accept": "public first access (from the e-mailed invitation)",
    "access.accounts.first_access_demo_company": "demo hint of the login page (demo outbox on)",
    "access.accounts.password_reset_request": "public forgotten password",
    "access.accounts.password_reset_confirm": "public forgotten password",
    "access.accounts.user_code_reminder": "public forgotten user code",
    "access.rate_limit.rate_limit_take": "counts attempts of the public forms, no company data",
    "documents.document_validate": "public validation page: no actor, shows only the masked "
    "summary stored at issue (tests/services/test_documents.py)",
    "documents.document_refusals": "what the actor's permissions allow, no data read",
    "access.rate_limit.failures_exceeded": "counts a client's failed logins, no company data",
    "access.rate_limit.failure_note": "counts a client's failed logins, no company data",
    "mail.outbox.outbox_list": "the demo outbox: an account manager all, others only their own "
    "address (tests/services/test_mail.py)",
    "mail.outbox.mail_deliver": "delivers messages its caller recorded, after that caller's check",
    "mail.outbox.mail_retry_failed": "account managers only when given an actor (test_mail.py); "
    "the scheduler's portal-mail retry has none",
    "home.provider_filter_options": "the operator's dental network: public, no company data",
    "home.provider_search": "the operator's dental network: public, no company data",
    # Readjustments need lives (coverage periods) and an anniversary the seeded world does
    # not hold; account managers of the company only, refusals of a master and of another
    # portfolio's manager, nothing written, in tests/services/test_prices.py.
    "billing.prices.readjust_contract": "account managers only (tests/services/test_prices.py)",
    "billing.prices.readjust_pool": "the manager's own portfolio (tests/services/test_prices.py)",
    # Needs a dependent within 60 days of the contract's age limit, which the seeded world
    # lacks; it is movement_apply[exclusion] (a row here) after its own check, whose
    # permission and company refusals are in tests/services/test_ageing.py.
    "movements.ageing.exclude_aged_out": "movement_apply's exclusion of an ageing dependent "
    "(test_ageing)",
    # The scheduled job's generation (no actor: it writes the notices of each company's own
    # users) and the actor's own e-mail preference (no company data); test_notices.py.
    "notices.notices_generate": "the job's generation over the companies, no actor "
    "(tests/services/test_notices.py)",
    "notices.notice_preference_get": "the actor's own e-mail preference, no company data",
    "notices.notice_preference_set": "the actor's own e-mail preference, no company data",
}


def _public_service_functions() -> dict[str, Callable[..., Any]]:
    import importlib
    import inspect
    import pkgutil

    import services

    found: dict[str, Callable[..., Any]] = {}
    # Every module, those of packages (services.billing) included; not the pure rules nor
    # the command-line front ends.
    for info in pkgutil.walk_packages(services.__path__, "services."):
        short = info.name.removeprefix("services.")
        if info.ispkg or short.startswith("rules") or short.endswith(".cli"):
            continue
        module = importlib.import_module(info.name)
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn):
                continue
            params = inspect.signature(fn).parameters
            if fn.__module__ == module.__name__ and ("actor" in params or "uow" in params):
                found[f"{short}.{name}"] = fn
    return found


def test_every_public_service_function_with_an_actor_is_in_the_matrix_or_left_out_on_purpose():
    covered = {name.split("[")[0] for name in SPECS}
    functions = _public_service_functions()
    missing = [
        qualified
        for qualified in functions
        if qualified.rsplit(".", 1)[1] not in covered and qualified not in LEFT_OUT
    ]
    assert not missing, f"public service functions with no cell: {missing}"
    assert set(LEFT_OUT) <= set(functions)
    assert covered <= {q.rsplit(".", 1)[1] for q in functions}


def test_the_matrix_names_every_function_once_with_every_cell():
    assert set(FUNCTIONS) == set(SPECS)
    assert len(EXPECTED) == len(SPECS) * len(ROLES) * len(COMPANIES)


def test_every_column_has_an_accepted_cell_so_a_refusal_is_the_access_rules():
    for function in FUNCTIONS:
        for company in COMPANIES:
            assert any(EXPECTED[function, r, company] == "ok" for r in ROLES), (function, company)


def test_the_matrix_lets_no_role_reach_a_company_it_cannot_see(world: World):
    for (function, role, company), expected in EXPECTED.items():
        actor = actor_for(world, role, SPECS[function])
        if world.facts(company).id not in actor.company_ids:
            assert expected == "refused", (function, role, company)
    # The rows are who they say they are.
    a, b = world.a.id, world.b.id
    sees = {role: world.actors[role].company_ids for role in ("am_with", "am_without")}
    assert a in sees["am_with"] and b not in sees["am_with"]
    assert b in sees["am_without"] and a not in sees["am_without"]
    assert world.actors["master"].role is Role.MASTER and a in world.actors["master"].company_ids
    assert world.actors["master_other"].role is Role.MASTER
    assert a not in world.actors["master_other"].company_ids
    for spec in SPECS.values():
        if spec.permission is not None:
            assert actor_for(world, "user_with", spec).permissions == {spec.permission}
            assert spec.permission not in actor_for(world, "user_without", spec).permissions


# ================================================================ ids of company B in A's context

# Whoever may act on A, asking in A's context for an object of B (an invoice, a card, a
# protocol, a batch, a user) or sending something to B: refused, nothing written.
NOT_HERE = re.compile(
    r"não encontrad|titular ativo desta empresa|Nenhum beneficiário desta empresa|"
    r"não tem acesso|exclusiva dos gestores|Só o gestor|feito pelo gestor de contas"
)

FOREIGN: dict[str, Callable[[Env, Facts], Any]] = {
    "invoice_detail": lambda env, b: billing.invoice_detail(
        uow=env.uow(), actor=env.actor, invoice_id=b.invoice_overdue, today=TODAY
    ),
    "boleto_issue": lambda env, b: payments.boleto_issue(
        uow=env.uow(), actor=env.actor, invoice_id=b.invoice_open, now=NOW
    ),
    "boleto_send_email": lambda env, b: payments.boleto_send_email(
        uow=env.uow(),
        actor=env.actor,
        invoice_id=b.invoice_overdue,
        to="x@example.com.br",
        pdf=PDF,
        now=NOW,
    ),
    "overdue_quote": lambda env, b: payments.overdue_quote(
        uow=env.uow(),
        actor=env.actor,
        invoice_id=b.invoice_overdue,
        pay_date=b.pay_date,
        today=TODAY,
    ),
    "overdue_reissue": lambda env, b: payments.overdue_reissue(
        uow=env.uow(),
        actor=env.actor,
        invoice_id=b.invoice_overdue,
        pay_date=b.pay_date,
        now=NOW,
    ),
    "protocol_detail": lambda env, b: protocols.protocol_detail(
        uow=env.uow(), actor=env.actor, protocol_id=b.protocol_id, today=TODAY
    ),
    "protocol_add_note": lambda env, b: protocols.protocol_add_note(
        uow=env.uow(), actor=env.actor, protocol_id=b.protocol_id, note="Olá, B.", now=NOW
    ),
    "batch_lines": lambda env, b: batch.batch_lines(
        uow=env.uow(), actor=env.actor, batch_id=b.batch_id
    ),
    "batch_apply": lambda env, b: batch.batch_apply(
        uow=env.uow(), actor=env.actor, batch_id=b.batch_id, now=NOW
    ),
    "batch_result_file": lambda env, b: batch.batch_result_file(
        uow=env.uow(), actor=env.actor, batch_id=b.batch_id
    ),
    "beneficiary_detail": lambda env, b: movements.beneficiary_detail(
        uow=env.uow(), actor=env.actor, card_number=b.holder_card
    ),
    "exclusion_preview": lambda env, b: movements.exclusion_preview(
        uow=env.uow(), actor=env.actor, card_number=b.holder_card
    ),
    "movement_include_dependent_of_b": lambda env, b: movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=InclusionRequest(child_person(), relationship_code=4, holder_card=b.holder_card),
        now=NOW,
    ),
    "movement_exclude": lambda env, b: movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=ExclusionRequest(
            card_number=b.holder_card,
            reason="pedido",
            effective_date=None,
            dependents_confirmed=True,
        ),
        now=NOW,
    ),
    "movement_update": lambda env, b: movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=UpdateRequest(card_number=b.holder_card, changes={"email": "b@example.com.br"}),
        now=NOW,
    ),
    "movement_reactivate": lambda env, b: movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=ReactivationRequest(card_number=b.inactive_card, effective_date=None),
        now=NOW,
    ),
    "movement_change_plan": lambda env, b: movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=PlanChangeRequest(card_number=b.holder_card, plan_id=env.company.other_plan_id),
        now=NOW,
    ),
    "movement_transfer_card_of_b": lambda env, b: movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=TransferRequest(card_number=b.holder_card, target_company_id=env.company.partner),
        now=NOW,
    ),
    "transfer_plans_card_of_b": lambda env, b: movements.transfer_plans(
        uow=env.uow(),
        actor=env.actor,
        card_number=b.holder_card,
        target_company_id=env.company.partner,
    ),
    "transfer_plans_to_b": lambda env, b: movements.transfer_plans(
        uow=env.uow(),
        actor=env.actor,
        card_number=env.company.holder_card,
        target_company_id=b.id,
    ),
    "movement_transfer_to_b": lambda env, b: movements.movement_apply(
        uow=env.uow(),
        actor=env.actor,
        request=TransferRequest(
            card_number=env.company.holder_card, target_company_id=b.id, plan_id=env.company.plan_id
        ),
        now=NOW,
    ),
    "user_update_user_of_b": lambda env, b: users.user_update(
        uow=env.uow().for_company(env.cid),
        actor=env.actor,
        user_id=b.user_id,
        name="Pessoa de Outra Empresa",
        cpf=b.user_cpf,
        email=b.user_email,
        permissions=[],
        now=NOW,
    ),
    "user_invitation_resend_user_of_b": lambda env, b: users.user_invitation_resend(
        uow=env.uow().for_company(env.cid),
        actor=env.actor,
        user_id=b.pending_id,
        now=NOW,
        base_url="https://portal.test",
    ),
    "user_set_active_user_of_b": lambda env, b: users.user_set_active(
        uow=env.uow().for_company(env.cid),
        actor=env.actor,
        user_id=b.user_id,
        active=False,
        now=NOW,
    ),
    "billing_run_with_b": lambda env, b: billing.billing_run(
        uow=env.uow(None),
        actor=env.actor,
        billing_month=date(2027, 1, 1),
        company_ids=[env.cid, b.id],
        now=NOW,
    ),
    "utilization_compare_with_b": lambda env, b: analytics.utilization_compare(
        uow=env.uow(None),
        actor=env.actor,
        series=[
            analytics.CompareSeries("A", (env.cid,), PERIOD),
            analytics.CompareSeries("B", (b.id,), PERIOD),
        ],
    ),
    "beneficiary_dossier": lambda env, b: lgpd.beneficiary_dossier(
        uow=env.uow(None).for_company(env.cid), actor=env.actor, term=b.holder_card, now=NOW
    ),
    "utilization_pivot_with_b": lambda env, b: analytics.utilization_pivot(
        uow=env.uow(None),
        actor=env.actor,
        request=analytics.PivotRequest(
            rows="company", measure="cost", period=PERIOD, company_ids=(env.cid, b.id)
        ),
    ),
}


@pytest.mark.parametrize("role", ["am_with", "master"])
@pytest.mark.parametrize("case", list(FOREIGN))
def test_an_object_of_company_b_asked_in_company_a_context_is_refused(
    world: World, case: str, role: str
):
    with world.transaction() as (conn, factory):
        env = Env(world, conn, factory, world.actors[role], world.a)
        with nothing_written(conn, untouched=False), pytest.raises(DomainError) as refused:
            FOREIGN[case](env, world.b)
        assert NOT_HERE.search(refused.value.message), refused.value.message


@pytest.mark.parametrize("role", ["am_with", "master"])
def test_a_batch_line_transferring_to_company_b_is_refused(world: World, role: str):
    """A file is received whole: the line sending a holder to B is refused, the same line
    to A's group partner is accepted, and only A's rows are written."""
    a = world.a

    def transfer(target: str) -> dict[str, str]:
        return {
            "tipo_movimento": "TRANSFERENCIA",
            "carteirinha": a.holder_card,
            "codigo_empresa_destino": target,
        }

    partner_code = "10002"
    with world.transaction() as (conn, factory):
        before = State.read(conn, whole=True)
        check = batch.batch_receive(
            uow=UnitOfWork(factory, a.id),
            actor=world.actors[role],
            file_name="lote.csv",
            content=csv_file([transfer(world.b.code), transfer(partner_code)]),
            now=NOW,
        )
        assert [line.status for line in check.lines] == ["refused", "accepted"], check.lines
        assert "Empresa de destino não encontrada" in check.lines[0].message
        changes = written(before, conn)
        assert {company for _, company in changes} == {a.id}, changes


# ================================================================ lists of companies


def _user_key(role: str) -> str:
    return {"user_with": "user_all", "user_without": "user_none"}.get(role, role)


PORTFOLIO_COMPANIES = {
    "am_with": "ok",
    "am_without": "ok",
    "master": "refused",
    "master_other": "refused",
    "user_with": "refused",
    "user_without": "refused",
    "inactive": "refused",
}


@pytest.mark.parametrize("role", ROLES)
def test_the_company_lists_hold_only_the_actors_companies(world: World, role: str):
    actor = world.actors[_user_key(role)]
    with world.transaction() as (_conn, factory):
        uow = UnitOfWork(factory)
        listed = companies.company_list_for_actor(uow=uow, actor=actor)
        assert {c.id for c in listed} == actor.company_ids
        if PORTFOLIO_COMPANIES[role] == "refused":
            with pytest.raises(DomainError, match="exclusiva dos gestores"):
                analytics.portfolio_companies(uow=uow, actor=actor)
        else:
            portfolio = analytics.portfolio_companies(uow=uow, actor=actor)
            assert {c.id for c in portfolio} == actor.company_ids


# ================================================================ inactive and anonymous


def test_an_inactive_user_is_out_before_any_service(world: World):
    """The inactive row's actor still works in the service layer (it trusts its actor),
    but the frame refreshes the actor on every step and the user cannot log in again."""
    inactive, active = world.actors["inactive"], world.actors["user_all"]
    with world.transaction() as (conn, factory):
        uow = UnitOfWork(factory)
        status = conn.execute(select(User.status).where(User.id == inactive.user_id)).scalar_one()
        assert status == "inactive"
        assert access.actor_refresh(uow=uow, actor=inactive, now=NOW) is None
        assert access.actor_for_user(uow=uow, user_code=inactive.user_code, now=NOW) is None
        with pytest.raises(DomainError):
            access.auth_login(uow=uow, user_code=inactive.user_code, password=PASSWORD, now=NOW)
        # The same steps let an active user of the same company through.
        assert access.actor_refresh(uow=uow, actor=active, now=NOW) == active
        assert access.auth_login(uow=uow, user_code=active.user_code, password=PASSWORD, now=NOW)


PUBLIC_PAGES = {
    "__init__.py",
    "login.py",
    "first_access.py",
    "access_link.py",
    "forgot_password.py",
    "forgot_user.py",
    "reset_password.py",
    "validate_document.py",  # documents on demand: public, the code is its only input
}
PAGES = sorted(p for p in (ROOT / "pages").glob("*.py") if p.name not in PUBLIC_PAGES)
# Other ways to an actor than get_context: none may appear in a page.
ACTOR_SOURCES = {
    "current_actor",
    "set_actor",
    "ACTOR_KEY",
    "actor_for_user",
    "actor_from_session_token",
    "actor_refresh",
    "auth_login",
}


def _calls(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def _is_get_context(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "get_context"


def _names(tree: ast.AST) -> set[str]:
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
        elif isinstance(n, ast.alias):
            out.add(n.asname or n.name.split(".")[-1])
    return out


def test_the_pages_are_all_seen():
    assert len(PAGES) >= 20
    assert {p.name for p in PAGES}.isdisjoint(PUBLIC_PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_a_page_gets_its_actor_only_from_get_context(page: Path):
    """Anonymous: the page's first statement that runs anything is
    `ctx = get_context(...)`, which stops the page when nobody is logged in, so no service
    is called without an actor; and the actor every call gets is `ctx.actor`."""
    tree = ast.parse(page.read_text(encoding="utf-8"))
    imported = {
        alias.name
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and n.module == "components.context"
        for alias in n.names
    }
    assert "get_context" in imported
    guard = next(i for i, n in enumerate(tree.body) if any(map(_is_get_context, _calls(n))))
    first = tree.body[guard]
    assert isinstance(first, ast.Assign) and isinstance(first.value, ast.Call)
    assert _is_get_context(first.value) and [ast.unparse(t) for t in first.targets] == ["ctx"]
    for n in tree.body[:guard]:
        if isinstance(n, ast.FunctionDef | ast.ClassDef):  # defined, not run
            run_now = [*n.decorator_list, *getattr(n, "bases", [])]
            if isinstance(n, ast.FunctionDef):
                run_now += [*n.args.defaults, *n.args.kw_defaults]
            assert not [c for d in run_now if d for c in _calls(d)], ast.unparse(n)
            continue
        assert isinstance(n, ast.Import | ast.ImportFrom | ast.Expr | ast.Assign), ast.unparse(n)
        assert not _calls(n), f"runs before get_context: {ast.unparse(n)}"
    assert not (_names(tree) & ACTOR_SOURCES), _names(tree) & ACTOR_SOURCES
    for call in _calls(tree):
        for kw in call.keywords:
            if kw.arg == "actor":
                assert ast.unparse(kw.value) == "ctx.actor", ast.unparse(call)
    assert not [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Subscript) and ast.unparse(n.slice) in ("'actor'", "ACTOR_KEY")
    ]


@pytest.mark.parametrize("page", sorted(PUBLIC_PAGES - {"__init__.py"}))
def test_a_public_page_calls_no_service_with_an_actor(page: str):
    tree = ast.parse((ROOT / "pages" / page).read_text(encoding="utf-8"))
    assert not [kw for call in _calls(tree) for kw in call.keywords if kw.arg == "actor"]
    assert "get_context" not in _names(tree)
