"""Documents on demand: income-tax statements, the declaration of discharge of debts and
permanence letters, each a PDF with a verification code, and the public validation.

What each document states is decided by the pure rules (services/rules/issued_documents.py);
this module reads the company's data, records each issued document (code, subject, issuer,
the public summary, the PDF's SHA-256) with an audit record, and answers the public page.

Layers: services never import the interface, so the PDF is drawn by a `render` function
the caller passes (components/document_pdf.py); the service calls it with the view and
the new code inside its transaction, hashes the bytes and commits record, audit and hash
together. Nothing is kept of a refused request.

Who may ask (checked here first, whatever the menu shows):
- income-tax statement: finance (amounts paid) and personal data (the CPFs are printed
  whole, as the income-tax return needs them);
- permanence letter: movements and personal data (CPF whole, for the new operator);
- discharge declaration: finance.
Company users get their own companies only (the unit of work's company, which the actor
must see); account managers their portfolio. Issuing an income-tax statement or a
permanence letter is also recorded as a view of personal data (LGPD).

The public validation (`document_validate`) needs no login: it tells the kind, the issue
date, the company and the document's own facts with names and CPFs masked (the summary
stored at issue), and whether a file given alongside is the one issued.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import Session

from data.models import (
    Beneficiary,
    Company,
    CoveragePeriod,
    Invoice,
    InvoiceLine,
    IssuedDocument,
    Operator,
    Plan,
    User,
)
from data.uow import UnitOfWork, across_companies
from services.access.rate_limit import Limit, rate_limit_take
from services.actors import PERMISSION_LABELS, Actor, Permission
from services.audit import audit_record
from services.lgpd import personal_data_access_record
from services.movements.exclusion_proof import ExclusionProofView, exclusion_proof_view
from services.numbering import local_date
from services.rules.card_numbers import format_card_number
from services.rules.documents import format_cnpj, format_company_document, only_digits
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError
from services.rules.formats import format_cpf, format_date, format_money, mask_cpf
from services.rules.issued_documents import (
    CoverageFact,
    DischargeCheck,
    DocumentKind,
    IncomeTaxFigures,
    InvoiceFact,
    PaidLine,
    PermanenceFacts,
    Person,
    code_problem,
    discharge_check,
    format_code,
    income_tax_figures,
    mask_name,
    months_text,
    new_code,
    normalize_code,
    permanence_facts,
)

VALIDATION_PATH = "validar-documento"
VALIDATION_PARAM = "codigo"
# The public page: generous per client (an office shares one address), and the codes
# are not guessable anyway (about 54 bits each).
VALIDATION_LIMIT = Limit(attempts=60, window=timedelta(minutes=15))
UNKNOWN_CODE = (
    "Nenhum documento foi emitido com este código. Confira o código impresso no documento; "
    "se ele estiver certo, o documento não foi emitido pelo Portal Empresa."
)
ZIP_MIME = "application/zip"
PDF_MIME = "application/pdf"
KEY_CHUNK = 2000

V = TypeVar("V")
Render = Callable[[V], bytes]


# ---------------------------------------------------------------- views (what a PDF shows)


@dataclass(frozen=True)
class DocumentHeader:
    """What every document prints: issuer, company, code and where to validate it."""

    kind: DocumentKind
    code: str  # formatted, XXXX-XXXX-XXXX
    validation_url: str  # the public page with the code filled in
    validation_page: str  # the public page's address, to type the code
    issued_at: datetime
    operator_name: str
    operator_cnpj: str  # formatted
    operator_ans: str
    company_name: str
    company_document: str  # formatted, with its type ("CNPJ 12.345.678/0001-90")


@dataclass(frozen=True)
class IncomeTaxView:
    header: DocumentHeader
    figures: IncomeTaxFigures
    holder_card: str  # formatted
    # The year is not over: the payments up to this day (the statement is partial).
    partial_until: date | None = None

    @property
    def file_name(self) -> str:
        return f"imposto_renda_{self.figures.year}_{_slug(self.figures.holder.person.name)}.pdf"


@dataclass(frozen=True)
class DischargeView:
    header: DocumentHeader
    check: DischargeCheck

    @property
    def file_name(self) -> str:
        return f"declaracao_quitacao_{self.check.year}.pdf"


@dataclass(frozen=True)
class PermanenceView:
    header: DocumentHeader
    name: str
    cpf: str  # formatted whole ("" when the register has none)
    card: str  # formatted
    birth_date: date
    relationship_label: str
    holder_name: str | None  # a dependent's holder
    on: date  # the position is as of this day
    facts: PermanenceFacts

    @property
    def file_name(self) -> str:
        return f"carta_permanencia_{_slug(self.name)}.pdf"


@dataclass(frozen=True)
class ExclusionProofDocument:
    """The proof of exclusion of services/movements/exclusion_proof.py with a code."""

    header: DocumentHeader
    proof: ExclusionProofView

    @property
    def file_name(self) -> str:
        return self.proof.file_name


@dataclass(frozen=True)
class IssuedFile:
    """What the page offers for download."""

    file_name: str
    mime: str
    content: bytes
    codes: list[str]  # formatted; one per document (several in a zip)


@dataclass(frozen=True)
class HolderChoice:
    id: int
    name: str
    card: str  # formatted
    total: Decimal  # paid in the year for the holder and dependents

    @property
    def label(self) -> str:
        return f"{self.name} · {self.card} · {format_money(self.total)}"


@dataclass(frozen=True)
class IssuedRow:
    """A document issued in the company, as the Documentos page lists it."""

    code: str  # formatted
    kind_label: str
    issued_at: datetime
    issued_by: str  # the user's code and name ("" for the operator's programs)
    about: str  # the first facts of its public summary (names masked)


@dataclass(frozen=True)
class Validation:
    code: str  # formatted
    kind_label: str
    issued_at: datetime
    company_name: str
    facts: list[tuple[str, str]]  # what the document covers, personal data masked
    content_sha256: str
    file_matches: bool | None  # None: no file given


# ---------------------------------------------------------------- permissions

_NEEDS: dict[DocumentKind, tuple[Permission, ...]] = {
    DocumentKind.INCOME_TAX: (Permission.FINANCE, Permission.PERSONAL_DATA),
    DocumentKind.DISCHARGE: (Permission.FINANCE,),
    DocumentKind.PERMANENCE: (Permission.MOVEMENTS, Permission.PERSONAL_DATA),
}


def document_refusals(actor: Actor) -> dict[DocumentKind, str | None]:
    """For each document, None when the actor may issue it, else why not (the same rule
    the issue checks; no data read)."""
    out: dict[DocumentKind, str | None] = {}
    for kind, needs in _NEEDS.items():
        missing = [PERMISSION_LABELS[p] for p in needs if not actor.can(p)]
        out[kind] = (
            None
            if not missing
            else f"Seu usuário não tem permissão para {' e '.join(missing)}. "
            "Peça ao usuário master da empresa."
        )
    # The proof of exclusion follows exclusion_proof_view: movements or protocols.
    either = (Permission.MOVEMENTS, Permission.PROTOCOLS)
    out[DocumentKind.EXCLUSION_PROOF] = (
        None
        if any(actor.can(p) for p in either)
        else "Seu usuário não tem permissão para "
        f"{' ou '.join(PERMISSION_LABELS[p] for p in either)}. "
        "Peça ao usuário master da empresa."
    )
    return out


def _require(actor: Actor, uow: UnitOfWork, kind: DocumentKind) -> int:
    actor.require(None, uow.company_id)
    for permission in _NEEDS[kind]:
        actor.require(permission, uow.company_id)
    return uow.require_company()


# ---------------------------------------------------------------- shared steps


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_").lower()[:60] or "documento"


def validation_address(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{VALIDATION_PATH}"


def _header(
    session: Session, company_id: int, kind: DocumentKind, code: str, base_url: str, now: datetime
) -> DocumentHeader:
    company = session.get(Company, company_id)
    assert company is not None
    operator = session.get(Operator, company.operator_id)
    assert operator is not None
    page = validation_address(base_url)
    shown = format_code(code)
    return DocumentHeader(
        kind=kind,
        code=shown,
        validation_url=f"{page}?{VALIDATION_PARAM}={shown}",
        validation_page=page,
        issued_at=now,
        operator_name=operator.name,
        operator_cnpj=format_cnpj(operator.cnpj),
        operator_ans=operator.ans_registration,
        company_name=company.name,
        company_document=(
            f"{company.document_type} "
            f"{format_company_document(company.document, company.document_type)}"
        ),
    )


def _fresh_code(session: Session, taken: set[str]) -> str:
    """A code no document has (a clash of 54 random bits is not expected, but checked)."""
    while True:
        code = new_code()
        if code in taken:
            continue
        if session.scalar(select(IssuedDocument.id).where(IssuedDocument.code == code)) is None:
            taken.add(code)
            return code


def _record(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    kind: DocumentKind,
    code: str,
    content: bytes,
    now: datetime,
    summary: list[tuple[str, str]],
    beneficiary_id: int | None = None,
    year: int | None = None,
) -> None:
    """The issued document and its audit record, in the caller's transaction."""
    digest = hashlib.sha256(content).hexdigest()
    doc = IssuedDocument(
        code=code,
        kind=kind.value,
        company_id=company_id,
        beneficiary_id=beneficiary_id,
        year=year,
        issued_at=now,
        issued_by_user_id=actor.user_id or None,
        summary={"facts": [list(pair) for pair in summary]},
        content_sha256=digest,
    )
    session.add(doc)
    session.flush()
    audit_record(
        session,
        user_id=actor.user_id or None,
        company_id=company_id,
        action="document_issue",
        entity="issued_document",
        entity_id=doc.id,
        before=None,
        after={
            "kind": kind.value,
            "code": format_code(code),
            "year": year,
            "beneficiary_id": beneficiary_id,
            "content_sha256": digest,
        },
        now=now,
    )


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), KEY_CHUNK):
        yield ordered[start : start + KEY_CHUNK]


# ---------------------------------------------------------------- income tax


def _paid_cents(
    session: Session, company_id: int, year: int, family_of: int | None = None
) -> dict[int, int]:
    """Net cents of each beneficiary's lines on the company's invoices paid in `year`
    (of the holder `family_of` and its dependents only, when given)."""
    query = (
        select(InvoiceLine.beneficiary_id, func.sum(type_coerce(InvoiceLine.amount, BigInteger)))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.company_id == company_id,
            Invoice.status == "paid",
            Invoice.paid_on >= date(year, 1, 1),
            Invoice.paid_on <= date(year, 12, 31),
        )
        .group_by(InvoiceLine.beneficiary_id)
    )
    if family_of is not None:  # its people wherever they are now (a transfer moves them)
        family = (
            select(Beneficiary.id)
            .where((Beneficiary.id == family_of) | (Beneficiary.holder_id == family_of))
            .execution_options(all_companies=True)
        )
        with across_companies(session):
            ids = list(session.scalars(family))
        query = query.where(InvoiceLine.beneficiary_id.in_(ids))
    rows = session.execute(query).all()
    return {int(bid): int(cents or 0) for bid, cents in rows}


def _people(session: Session, ids: Iterable[int]) -> dict[int, Beneficiary]:
    """The beneficiaries the company's invoice lines name. A person transferred to
    another company of the group since still has these lines here: read across."""
    found: dict[int, Beneficiary] = {}
    for chunk in _chunks(list(ids)):
        for b in session.scalars(
            select(Beneficiary)
            .where(Beneficiary.id.in_(chunk))
            .execution_options(all_companies=True)
        ):
            found[b.id] = b
    return found


def _person(b: Beneficiary) -> Person:
    return Person(b.id, b.name, b.cpf, b.relationship_code)


def _statements(
    session: Session, company_id: int, year: int, family_of: int | None = None
) -> list[tuple[Beneficiary, IncomeTaxFigures]]:
    """Every holder with something paid in `year` (for the holder or a dependent), with
    the statement's figures, by name (only the holder `family_of`, when given)."""
    cents = _paid_cents(session, company_id, year, family_of)
    people = _people(session, cents)
    holder_ids = {b.holder_id or b.id for b in people.values()}
    people.update(_people(session, holder_ids - people.keys()))
    families: dict[int, list[Beneficiary]] = {}
    for b in people.values():
        if b.holder_id is not None:
            families.setdefault(b.holder_id, []).append(b)
    out = []
    for hid in holder_ids:
        holder = people[hid]
        deps = sorted(families.get(hid, []), key=lambda d: (d.relationship_code, d.name, d.id))
        members = [holder, *deps]
        paid = [PaidLine(m.id, Decimal(cents[m.id]).scaleb(-2)) for m in members if m.id in cents]
        figures = income_tax_figures(year, _person(holder), [_person(d) for d in deps], paid)
        if figures.total > 0:
            out.append((holder, figures))
    return sorted(out, key=lambda pair: (pair[0].name, pair[0].id))


def income_tax_years(*, uow: UnitOfWork, actor: Actor) -> list[int]:
    """The calendar years in which the company paid invoices, newest first."""
    company_id = _require(actor, uow, DocumentKind.INCOME_TAX)
    with uow:
        days = uow.session.scalars(
            select(Invoice.paid_on)
            .where(
                Invoice.company_id == company_id,
                Invoice.status == "paid",
                Invoice.paid_on.is_not(None),
            )
            .distinct()
        ).all()
    return sorted({d.year for d in days if d is not None}, reverse=True)


def income_tax_holders(*, uow: UnitOfWork, actor: Actor, year: int) -> list[HolderChoice]:
    """The holders with amounts paid in `year` (theirs or their dependents'), by name."""
    company_id = _require(actor, uow, DocumentKind.INCOME_TAX)
    with uow:
        return [
            HolderChoice(h.id, h.name, format_card_number(h.card_number), f.total)
            for h, f in _statements(uow.session, company_id, year)
        ]


def _income_tax_summary(view: IncomeTaxView) -> list[tuple[str, str]]:
    figures = view.figures
    holder = figures.holder.person
    year = str(figures.year)
    if view.partial_until is not None:
        year += f" (parcial: pagamentos até {format_date(view.partial_until)})"
    return [
        ("Ano-calendário", year),
        ("Titular", mask_name(holder.name)),
        ("CPF do titular", mask_cpf(holder.cpf) if holder.cpf else "não informado"),
        ("Dependentes no demonstrativo", str(len(figures.dependents))),
        ("Total pago no ano", format_money(figures.total)),
    ]


def _issue_income_tax(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    holder: Beneficiary,
    figures: IncomeTaxFigures,
    now: datetime,
    base_url: str,
    render: Render[IncomeTaxView],
    taken: set[str],
) -> tuple[IncomeTaxView, bytes]:
    code = _fresh_code(session, taken)
    today = local_date(now)
    view = IncomeTaxView(
        _header(session, company_id, DocumentKind.INCOME_TAX, code, base_url, now),
        figures,
        format_card_number(holder.card_number),
        today if figures.year >= today.year else None,
    )
    content = render(view)
    _record(
        session,
        actor=actor,
        company_id=company_id,
        kind=DocumentKind.INCOME_TAX,
        code=code,
        content=content,
        now=now,
        summary=_income_tax_summary(view),
        beneficiary_id=holder.id,
        year=figures.year,
    )
    return view, content


def income_tax_issue(
    *,
    uow: UnitOfWork,
    actor: Actor,
    holder_id: int,
    year: int,
    now: datetime,
    base_url: str,
    render: Render[IncomeTaxView],
) -> IssuedFile:
    """The income-tax statement of one holder for `year`: recorded, audited, and the
    view of the family's personal data recorded (LGPD)."""
    company_id = _require(actor, uow, DocumentKind.INCOME_TAX)
    with uow:
        session = uow.session
        found = [
            (h, f)
            for h, f in _statements(session, company_id, year, holder_id)
            if h.id == holder_id
        ]
        if not found:
            raise DomainError(
                f"Este titular não tem valores pagos em {year} nas faturas desta empresa.",
                "holder",
            )
        holder, figures = found[0]
        view, content = _issue_income_tax(
            session,
            actor=actor,
            company_id=company_id,
            holder=holder,
            figures=figures,
            now=now,
            base_url=base_url,
            render=render,
            taken=set(),
        )
        personal_data_access_record(
            session,
            actor=actor,
            company_id=company_id,
            beneficiary_id=holder.id,
            purpose="exportacao",
            detail=f"Demonstrativo para Imposto de Renda {year} ({view.header.code})",
            now=now,
        )
        uow.commit()
    return IssuedFile(view.file_name, PDF_MIME, content, [view.header.code])


def income_tax_issue_all(
    *,
    uow: UnitOfWork,
    actor: Actor,
    year: int,
    now: datetime,
    base_url: str,
    render: Render[IncomeTaxView],
) -> IssuedFile:
    """One zip with the income-tax statement of every holder of the company with amounts
    paid in `year`: each PDF its own code, record and audit, all in one transaction."""
    company_id = _require(actor, uow, DocumentKind.INCOME_TAX)
    with uow:
        session = uow.session
        statements = _statements(session, company_id, year)
        if not statements:
            raise DomainError(f"Nenhuma fatura desta empresa foi paga em {year}.", "year")
        buffer = io.BytesIO()
        codes: list[str] = []
        taken: set[str] = set()
        names: set[str] = set()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for holder, figures in statements:
                view, content = _issue_income_tax(
                    session,
                    actor=actor,
                    company_id=company_id,
                    holder=holder,
                    figures=figures,
                    now=now,
                    base_url=base_url,
                    render=render,
                    taken=taken,
                )
                name = view.file_name
                if name in names:  # two holders of the same name
                    name = name.removesuffix(".pdf") + f"_{holder.card_number[-6:]}.pdf"
                names.add(name)
                archive.writestr(name, content)
                codes.append(view.header.code)
        personal_data_access_record(
            session,
            actor=actor,
            company_id=company_id,
            beneficiary_id=None,
            purpose="exportacao",
            detail=f"Demonstrativos para Imposto de Renda {year}: {len(codes)} titulares",
            now=now,
        )
        uow.commit()
    return IssuedFile(f"imposto_renda_{year}.zip", ZIP_MIME, buffer.getvalue(), codes)


# ---------------------------------------------------------------- discharge


def _discharge(session: Session, company_id: int, year: int, today: date) -> DischargeCheck:
    invoices = session.scalars(
        select(Invoice).where(
            Invoice.company_id == company_id, Invoice.due_date <= date(year, 12, 31)
        )
    ).all()
    return discharge_check(
        year,
        [
            InvoiceFact(i.id, i.billing_month, i.due_date, i.amount, i.status, i.paid_on)
            for i in invoices
        ],
        today,
    )


def discharge_status(*, uow: UnitOfWork, actor: Actor, year: int, today: date) -> DischargeCheck:
    """Whether the declaration of `year` can be issued, and the open invoices if not."""
    company_id = _require(actor, uow, DocumentKind.DISCHARGE)
    with uow:
        return _discharge(uow.session, company_id, year, today)


def discharge_issue(
    *,
    uow: UnitOfWork,
    actor: Actor,
    year: int,
    now: datetime,
    base_url: str,
    render: Render[DischargeView],
) -> IssuedFile:
    """The declaration of discharge of debts of `year` (Lei 12.007/2009), when every
    invoice due in it (and before) is paid; otherwise a refusal that says why."""
    company_id = _require(actor, uow, DocumentKind.DISCHARGE)
    with uow:
        session = uow.session
        check = _discharge(session, company_id, year, local_date(now))
        if check.problem is not None:
            raise DomainError(check.problem, "year")
        code = _fresh_code(session, set())
        header = _header(session, company_id, DocumentKind.DISCHARGE, code, base_url, now)
        view = DischargeView(header, check)
        content = render(view)
        _record(
            session,
            actor=actor,
            company_id=company_id,
            kind=DocumentKind.DISCHARGE,
            code=code,
            content=content,
            now=now,
            summary=[
                ("Ano", str(year)),
                ("Empresa", header.company_name),
                ("Documento da empresa", header.company_document),
                ("Faturas quitadas", str(len(check.invoices))),
                ("Total quitado", format_money(check.total_paid)),
            ],
            year=year,
        )
        uow.commit()
    return IssuedFile(view.file_name, PDF_MIME, content, [header.code])


# ---------------------------------------------------------------- permanence


def _find(session: Session, company_id: int, term: str) -> Beneficiary:
    digits = only_digits(term or "")
    if len(digits) not in (11, 16):
        raise DomainError(
            "Informe o CPF (11 dígitos) ou o número da carteirinha (16 dígitos) do beneficiário.",
            "term",
        )
    column = Beneficiary.cpf if len(digits) == 11 else Beneficiary.card_number
    found = session.scalars(
        select(Beneficiary)
        .where(Beneficiary.company_id == company_id, column == digits)
        .order_by(Beneficiary.id.desc())
        .limit(1)
    ).first()
    if found is None:
        raise DomainError("Nenhum beneficiário desta empresa com este CPF ou carteirinha.", "term")
    return found


def _coverage(session: Session, company_id: int, beneficiary_id: int) -> list[CoverageFact]:
    rows = session.execute(
        select(CoveragePeriod, Plan)
        .join(Plan, Plan.id == CoveragePeriod.plan_id)
        .where(
            CoveragePeriod.company_id == company_id,
            CoveragePeriod.beneficiary_id == beneficiary_id,
        )
        .order_by(CoveragePeriod.start_date, CoveragePeriod.id)
    ).all()
    return [
        CoverageFact(
            plan.name, plan.ans_registration, plan.segment, p.start_date, p.end_date, p.kind
        )
        for p, plan in rows
    ]


def _permanence_summary(view: PermanenceView) -> list[tuple[str, str]]:
    facts = view.facts
    plan = facts.current
    if facts.last_day is None:
        end = "Em vigor"
    else:
        end = format_date(facts.last_day) + ("" if facts.ended else " (prevista)")
    return [
        ("Beneficiário", mask_name(view.name)),
        ("CPF", mask_cpf(only_digits(view.cpf)) if view.cpf else "não informado"),
        ("Plano", f"{plan.plan_name} · Registro ANS nº {plan.plan_ans}"),
        ("Segmentação", plan.segment),
        ("Início da cobertura contínua", format_date(facts.stretch_start)),
        ("Último dia de cobertura", end),
        ("Tempo de permanência", months_text(facts.months)),
        ("Posição em", format_date(view.on)),
    ]


def permanence_issue(
    *,
    uow: UnitOfWork,
    actor: Actor,
    term: str,
    now: datetime,
    base_url: str,
    render: Render[PermanenceView],
) -> IssuedFile:
    """The permanence letter of the beneficiary with this CPF or card in the company:
    plan, ANS registrations, segment, coverage periods, time in the plan, waiting
    periods served; recorded, audited, and the view of personal data recorded (LGPD)."""
    company_id = _require(actor, uow, DocumentKind.PERMANENCE)
    today = local_date(now)
    with uow:
        session = uow.session
        person = _find(session, company_id, term)
        facts = permanence_facts(
            _coverage(session, company_id, person.id), person.waiting_periods, today
        )
        if facts is None:
            raise DomainError(
                "Este beneficiário não tem período de cobertura nesta empresa.", "term"
            )
        holder_name = None
        if person.holder_id is not None:
            holder = _people(session, [person.holder_id]).get(person.holder_id)
            holder_name = holder.name if holder is not None else None
        code = _fresh_code(session, set())
        view = PermanenceView(
            header=_header(session, company_id, DocumentKind.PERMANENCE, code, base_url, now),
            name=person.name,
            cpf=format_cpf(person.cpf) if person.cpf else "",
            card=format_card_number(person.card_number),
            birth_date=person.birth_date,
            relationship_label=Relationship(person.relationship_code).label,
            holder_name=holder_name,
            on=today,
            facts=facts,
        )
        content = render(view)
        _record(
            session,
            actor=actor,
            company_id=company_id,
            kind=DocumentKind.PERMANENCE,
            code=code,
            content=content,
            now=now,
            summary=_permanence_summary(view),
            beneficiary_id=person.id,
        )
        personal_data_access_record(
            session,
            actor=actor,
            company_id=company_id,
            beneficiary_id=person.id,
            purpose="exportacao",
            detail=f"Carta de permanência ({view.header.code})",
            now=now,
        )
        uow.commit()
    return IssuedFile(view.file_name, PDF_MIME, content, [view.header.code])


# ---------------------------------------------------------------- proof of exclusion


def exclusion_proof_issue(
    *,
    uow: UnitOfWork,
    actor: Actor,
    protocol_number: str,
    now: datetime,
    base_url: str,
    render: Render[ExclusionProofDocument],
) -> IssuedFile:
    """The proof of exclusion of protocol `protocol_number` (RN 561/2022), as
    services/movements/exclusion_proof.py states it (and checks who may see it), with a
    verification code: recorded and audited."""
    actor.require(None, uow.company_id)
    company_id = uow.require_company()
    proof = exclusion_proof_view(
        uow=uow, actor=actor, today=local_date(now), protocol_number=protocol_number
    )
    people = proof.people
    dates = sorted({p.effective_date for p in people})
    with uow:
        session = uow.session
        code = _fresh_code(session, set())
        header = _header(session, company_id, DocumentKind.EXCLUSION_PROOF, code, base_url, now)
        document = ExclusionProofDocument(header, proof)
        content = render(document)
        _record(
            session,
            actor=actor,
            company_id=company_id,
            kind=DocumentKind.EXCLUSION_PROOF,
            code=code,
            content=content,
            now=now,
            summary=[
                ("Protocolo", proof.protocol_number),
                ("Beneficiários excluídos", "; ".join(mask_name(p.name) for p in people)),
                ("Data de exclusão", ", ".join(format_date(d) for d in dates)),
                ("Motivo", people[0].reason_label),
            ],
        )
        uow.commit()
    return IssuedFile(document.file_name, PDF_MIME, content, [header.code])


# ---------------------------------------------------------------- issued list


def issued_document_list(*, uow: UnitOfWork, actor: Actor, limit: int = 200) -> list[IssuedRow]:
    """The newest documents issued in the company, of the kinds the actor may issue
    (what each covers as the public page says it, personal data masked)."""
    actor.require(None, uow.company_id)
    company_id = uow.require_company()
    refusals = document_refusals(actor)
    kinds = [k.value for k, why in refusals.items() if why is None]
    if not kinds:
        raise DomainError(next(why for why in refusals.values() if why))
    with uow:
        rows = uow.session.execute(
            select(
                IssuedDocument.code,
                IssuedDocument.kind,
                IssuedDocument.issued_at,
                IssuedDocument.summary,
                User.user_code,
                User.name,
            )
            .outerjoin(User, User.id == IssuedDocument.issued_by_user_id)
            .where(IssuedDocument.company_id == company_id, IssuedDocument.kind.in_(kinds))
            .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
            .limit(limit)
        ).all()
    return [
        IssuedRow(
            code=format_code(code),
            kind_label=DocumentKind(kind).label,
            issued_at=issued_at,
            issued_by=f"{user_code} · {user_name}" if user_code else "",
            about=" · ".join(
                f"{label}: {value}" for label, value in (summary or {}).get("facts", [])[:2]
            ),
        )
        for code, kind, issued_at, summary, user_code, user_name in rows
    ]


# ---------------------------------------------------------------- public validation


def document_validate(
    *, uow: UnitOfWork, code: str, now: datetime, client: str, content: bytes | None = None
) -> Validation:
    """Public (no login): the document issued with `code` (typed in any case, with or
    without spaces and hyphens): its kind, issue date, company and the facts it covers,
    personal data masked; with `content`, whether that file is the one issued. A code
    of the wrong shape is refused without a lookup; lookups are rate limited per client."""
    problem = code_problem(code)
    if problem:
        raise DomainError(problem, "code")
    normal = normalize_code(code)
    rate_limit_take(
        uow=uow,
        form="document_validation",
        identifier="",
        client=client,
        now=now,
        per_client=VALIDATION_LIMIT,
    )
    with uow:
        found = uow.session.execute(
            select(IssuedDocument, Company.name)
            .join(Company, Company.id == IssuedDocument.company_id)
            .where(IssuedDocument.code == normal)
            .execution_options(all_companies=True)
        ).first()
        if found is None:
            raise DomainError(UNKNOWN_CODE, "code")
        doc, company_name = found
        facts: list[Any] = (doc.summary or {}).get("facts", [])
        digest = None if content is None else hashlib.sha256(content).hexdigest()
        return Validation(
            code=format_code(doc.code),
            kind_label=DocumentKind(doc.kind).label,
            issued_at=doc.issued_at,
            company_name=company_name,
            facts=[(str(label), str(value)) for label, value in facts],
            content_sha256=doc.content_sha256,
            file_matches=None if digest is None else digest == doc.content_sha256,
        )
