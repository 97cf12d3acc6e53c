"""Documents on demand on both databases: each document's figures, the open-invoice case
of the discharge declaration, the zip of every holder's statement, the public validation
(known, unknown, mistyped and normalised codes, the PDF's hash), the audit and personal
data records, and the refusals (permission, another company), which write nothing.

The world is the seeded demo (invoices of 2025-2026) plus invoices of 2019-2020 written
here, so the figures of those years are exactly the lines below."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from components.document_pdf import (
    discharge_pdf,
    exclusion_proof_pdf,
    income_tax_pdf,
    permanence_pdf,
)
from data.models import (
    AuditRecord,
    Beneficiary,
    CoveragePeriod,
    Invoice,
    InvoiceLine,
    IssuedDocument,
    Payment,
    PersonalDataAccess,
)
from services import documents
from services.actors import Permission
from services.movements import service as movements
from services.movements.service import ExclusionRequest
from services.rules.documents import format_cpf
from services.rules.errors import DomainError
from services.rules.formats import format_money
from services.rules.issued_documents import DocumentKind, format_code
from tests.services.movements_support import NOW, World, make_world, without_permissions

D = Decimal
BASE = "https://portal.test"


@dataclass
class Family:
    holder: Beneficiary
    deps: list[Beneficiary]
    other: Beneficiary  # another holder of the same company
    open_invoice: int


def _invoice(
    session,  # noqa: ANN001
    company_id: int,
    month: date,
    due: date,
    lines: list[tuple[Beneficiary, str]],
    paid_on: date | None,
    paid_extra: str = "0",
) -> int:
    total = sum((D(a) for _, a in lines), D("0"))
    inv = Invoice(
        company_id=company_id,
        billing_month=month,
        due_date=due,
        amount=total,
        status="paid" if paid_on else "open",
        issued_at=datetime(month.year, month.month, 1, tzinfo=UTC),
        paid_on=paid_on,
    )
    session.add(inv)
    session.flush()
    for b, amount in lines:
        session.add(
            InvoiceLine(
                invoice_id=inv.id,
                beneficiary_id=b.id,
                plan_id=b.plan_id,
                reference_month=month,
                age_band=5,
                kind="credit" if D(amount) < 0 else "monthly",
                amount=D(amount),
            )
        )
    if paid_on:  # a late payment carries fine and interest: never in the statement
        session.add(
            Payment(
                invoice_id=inv.id, paid_on=paid_on, amount=total + D(paid_extra), method="boleto"
            )
        )
    return inv.id


@pytest.fixture
def world(engine) -> World:  # noqa: ANN001
    return make_world(engine)


@pytest.fixture
def family(world: World) -> Family:
    holder = world.holder("10001", dependents=True)
    deps = world.dependents(holder.id)[:2]
    assert len(deps) >= 1
    other = world.holder("10001", dependents=False)
    cid = world.company["10001"]
    d1 = deps[0]
    d2 = deps[1] if len(deps) > 1 else deps[0]
    with world.factory() as s:
        # Paid 2019-12-09: holder 100, first dependent 80 - 10 (a credit), the other holder 50.
        _invoice(
            s,
            cid,
            date(2019, 11, 1),
            date(2019, 12, 10),
            [(holder, "100.00"), (d1, "80.00"), (d1, "-10.00"), (other, "50.00")],
            date(2019, 12, 9),
        )
        # Paid late, 2019-11-30, with R$ 7,00 of fine and interest.
        _invoice(
            s,
            cid,
            date(2019, 10, 1),
            date(2019, 11, 10),
            [(holder, "100.00"), (d2, "70.00")],
            date(2019, 11, 30),
            "7.00",
        )
        # Due 2020-01-10, paid 2020-01-05: the 2020 statement's, by payment date.
        _invoice(
            s, cid, date(2019, 12, 1), date(2020, 1, 10), [(holder, "100.00")], date(2020, 1, 5)
        )
        # Open since 2019-10-10: in no statement, and it blocks the 2019 declaration.
        open_id = _invoice(s, cid, date(2019, 9, 1), date(2019, 10, 10), [(holder, "100.00")], None)
        s.commit()
    return Family(holder, deps, other, open_id)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _count(world: World, model) -> int:  # noqa: ANN001
    with world.factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _docs(world: World) -> list[IssuedDocument]:
    return world.all(select(IssuedDocument).order_by(IssuedDocument.id))


def _validate(world: World, code: str, content: bytes | None = None) -> documents.Validation:
    return documents.document_validate(
        uow=world.uow(), code=code, now=NOW, client="198.51.100.7", content=content
    )


# ---------------------------------------------------------------- income tax


def test_the_income_tax_statement_has_each_persons_amount_paid_in_the_year(
    world: World, family: Family
):
    holders = documents.income_tax_holders(uow=world.uow(), actor=world.master, year=2019)
    totals = {h.id: h.total for h in holders}
    d1 = family.deps[0]
    d2 = family.deps[1] if len(family.deps) > 1 else d1
    assert totals == {family.holder.id: D("340.00"), family.other.id: D("50.00")}
    assert 2019 in documents.income_tax_years(uow=world.uow(), actor=world.master)

    views: list[documents.IncomeTaxView] = []

    def render(view: documents.IncomeTaxView) -> bytes:
        views.append(view)
        return income_tax_pdf(view)

    issued = documents.income_tax_issue(
        uow=world.uow(),
        actor=world.master,
        holder_id=family.holder.id,
        year=2019,
        now=NOW,
        base_url=BASE,
        render=render,
    )
    [view] = views
    f = view.figures
    assert (f.year, f.holder.person.id, f.holder.amount) == (2019, family.holder.id, D("200.00"))
    amounts = {d.person.id: d.amount for d in f.dependents}
    if d2 is d1:
        assert amounts == {d1.id: D("140.00")}
    else:
        assert amounts == {d1.id: D("70.00"), d2.id: D("70.00")}
    assert f.total == D("340.00")  # no fine nor interest, no 2020 payment, no open invoice

    assert issued.mime == documents.PDF_MIME and issued.file_name.endswith(".pdf")
    text = _text(issued.content)
    assert issued.codes == [view.header.code] and view.header.code in text
    assert f"{BASE}/validar-documento" in text
    assert format_cpf(family.holder.cpf) in text  # whole, as the return needs it
    assert format_money(D("340.00")) in text
    assert view.header.validation_url.endswith(f"?codigo={view.header.code}")

    [doc] = _docs(world)
    assert doc.code == view.header.code.replace("-", "")
    assert (doc.kind, doc.year, doc.beneficiary_id) == ("income_tax", 2019, family.holder.id)
    assert (
        doc.company_id == world.company["10001"] and doc.issued_by_user_id == world.master.user_id
    )
    assert doc.content_sha256 == hashlib.sha256(issued.content).hexdigest()
    [audit] = world.all(select(AuditRecord).where(AuditRecord.action == "document_issue"))
    assert audit.entity_id == str(doc.id) and audit.company_id == doc.company_id
    assert audit.after is not None and audit.after["code"] == view.header.code
    assert world.all(
        select(PersonalDataAccess.id).where(
            PersonalDataAccess.beneficiary_id == family.holder.id,
            PersonalDataAccess.purpose == "exportacao",
        )
    )


def test_an_invoice_counts_in_the_year_it_was_paid(world: World, family: Family):
    [h] = [
        h
        for h in documents.income_tax_holders(uow=world.uow(), actor=world.master, year=2020)
        if h.id == family.holder.id
    ]
    assert h.total == D("100.00")


def test_a_holder_without_amounts_in_the_year_or_of_another_company_is_refused(
    world: World, family: Family
):
    before = world.snapshot()
    for uow, holder_id in (
        (world.uow(), family.holder.id),  # nothing paid in 2018
        (world.uow("10002"), family.holder.id),  # another company of the group
    ):
        with pytest.raises(DomainError, match="não tem valores pagos"):
            documents.income_tax_issue(
                uow=uow,
                actor=world.master,
                holder_id=holder_id,
                year=2018 if uow.company_id == world.company["10001"] else 2019,
                now=NOW,
                base_url=BASE,
                render=income_tax_pdf,
            )
    assert world.snapshot() == before and _docs(world) == []


def test_the_zip_holds_every_holders_statement_each_with_its_code(world: World, family: Family):
    issued = documents.income_tax_issue_all(
        uow=world.uow(),
        actor=world.master,
        year=2019,
        now=NOW,
        base_url=BASE,
        render=income_tax_pdf,
    )
    assert issued.mime == documents.ZIP_MIME and issued.file_name == "imposto_renda_2019.zip"
    with zipfile.ZipFile(io.BytesIO(issued.content)) as archive:
        names = archive.namelist()
        contents = {n: archive.read(n) for n in names}
    assert len(names) == 2 and len(set(issued.codes)) == 2
    docs = _docs(world)
    assert {d.beneficiary_id for d in docs} == {family.holder.id, family.other.id}
    assert {d.content_sha256 for d in docs} == {
        hashlib.sha256(c).hexdigest() for c in contents.values()
    }
    for code in issued.codes:
        assert any(code in _text(c) for c in contents.values())
    audits = world.all(select(AuditRecord).where(AuditRecord.action == "document_issue"))
    assert len(audits) == 2
    with pytest.raises(DomainError, match="Nenhuma fatura desta empresa foi paga em 2018"):
        documents.income_tax_issue_all(
            uow=world.uow(),
            actor=world.master,
            year=2018,
            now=NOW,
            base_url=BASE,
            render=income_tax_pdf,
        )


# ---------------------------------------------------------------- discharge


def test_the_discharge_declaration_waits_for_the_open_invoice_and_then_is_issued(
    world: World, family: Family
):
    status = documents.discharge_status(
        uow=world.uow(), actor=world.master, year=2019, today=NOW.date()
    )
    assert not status.eligible and [i.id for i in status.open_invoices] == [family.open_invoice]
    before = world.snapshot()
    with pytest.raises(DomainError, match="em aberto"):
        documents.discharge_issue(
            uow=world.uow(),
            actor=world.master,
            year=2019,
            now=NOW,
            base_url=BASE,
            render=discharge_pdf,
        )
    assert world.snapshot() == before and _docs(world) == []

    with world.factory() as s:
        s.execute(
            update(Invoice)
            .where(Invoice.id == family.open_invoice)
            .values(status="paid", paid_on=date(2020, 2, 1))
        )
        s.commit()
    views: list[documents.DischargeView] = []

    def render(view: documents.DischargeView) -> bytes:
        views.append(view)
        return discharge_pdf(view)

    issued = documents.discharge_issue(
        uow=world.uow(), actor=world.master, year=2019, now=NOW, base_url=BASE, render=render
    )
    [view] = views
    # Due in 2019: October, November and December's invoices (January 2020's is not).
    assert [i.due_date for i in view.check.invoices] == [
        date(2019, 10, 10),
        date(2019, 11, 10),
        date(2019, 12, 10),
    ]
    assert view.check.total_paid == D("100.00") + D("170.00") + D("220.00")
    text = _text(issued.content)
    assert "12.007" in text and view.header.code in text and "2019" in text
    [doc] = _docs(world)
    assert (doc.kind, doc.year, doc.beneficiary_id) == ("discharge", 2019, None)
    facts = dict(_validate(world, view.header.code).facts)
    assert facts["Faturas quitadas"] == "3" and facts["Total quitado"] == format_money(D("490"))


def test_the_current_year_cannot_be_declared_yet(world: World):
    with pytest.raises(DomainError, match="depois que o ano terminar"):
        documents.discharge_issue(
            uow=world.uow(),
            actor=world.master,
            year=NOW.year,
            now=NOW,
            base_url=BASE,
            render=discharge_pdf,
        )


# ---------------------------------------------------------------- permanence


def test_the_permanence_letter_states_plan_coverage_and_waiting_periods(
    world: World, family: Family
):
    dep = family.deps[0]
    with world.factory() as s:
        s.execute(
            update(Beneficiary)
            .where(Beneficiary.id == dep.id)
            .values(waiting_periods={"Urgência": None, "Prótese": "2099-01-01"})
        )
        s.commit()
    periods = world.all(
        select(CoveragePeriod)
        .where(CoveragePeriod.beneficiary_id == dep.id)
        .order_by(CoveragePeriod.start_date)
    )
    views: list[documents.PermanenceView] = []

    def render(view: documents.PermanenceView) -> bytes:
        views.append(view)
        return permanence_pdf(view)

    issued = documents.permanence_issue(
        uow=world.uow(),
        actor=world.master,
        term=format_cpf(dep.cpf) if dep.cpf else dep.card_number,
        now=NOW,
        base_url=BASE,
        render=render,
    )
    [view] = views
    f = view.facts
    assert [p.start for p in f.periods] == [p.start_date for p in periods]
    assert f.current.plan_ans and f.current.segment
    assert view.holder_name == family.holder.name
    assert {w.group: w.text for w in f.waiting or []} == {
        "Urgência": "Isenta",
        "Prótese": "Em curso até 01/01/2099",
    }
    text = _text(issued.content)
    assert view.header.code in text and f.current.plan_ans in text and "Isenta" in text
    [doc] = _docs(world)
    assert (doc.kind, doc.beneficiary_id) == ("permanence", dep.id)
    facts = dict(_validate(world, view.header.code).facts)
    assert facts["Plano"].startswith(f.current.plan_name)
    assert dep.name not in str(facts)  # masked
    if dep.cpf:
        assert dep.cpf not in str(facts) and format_cpf(dep.cpf) not in str(facts)


def test_the_permanence_letter_needs_a_cpf_or_card_of_the_company(world: World, family: Family):
    for term, says in (("123", "CPF \\(11 dígitos\\)"), ("52998224725", "Nenhum beneficiário")):
        with pytest.raises(DomainError, match=says):
            documents.permanence_issue(
                uow=world.uow(),
                actor=world.master,
                term=term,
                now=NOW,
                base_url=BASE,
                render=permanence_pdf,
            )
    with pytest.raises(DomainError, match="Nenhum beneficiário"):  # of 10001, asked in 10002
        documents.permanence_issue(
            uow=world.uow("10002"),
            actor=world.master,
            term=family.holder.card_number,
            now=NOW,
            base_url=BASE,
            render=permanence_pdf,
        )


# ---------------------------------------------------------------- validation


def test_the_public_validation_knows_the_code_whatever_its_typing_and_checks_the_file(
    world: World, family: Family
):
    issued = documents.income_tax_issue(
        uow=world.uow(),
        actor=world.master,
        holder_id=family.holder.id,
        year=2019,
        now=NOW,
        base_url=BASE,
        render=income_tax_pdf,
    )
    code = issued.codes[0]
    for typed in (code, code.lower(), code.replace("-", " "), f" {code.replace('-', '')} "):
        v = _validate(world, typed)
        assert v.code == code and v.kind_label == DocumentKind.INCOME_TAX.label
        assert v.issued_at == NOW and v.company_name
        assert v.file_matches is None
    facts = dict(v.facts)
    assert facts["Ano-calendário"] == "2019" and facts["Total pago no ano"] == format_money(
        D("340")
    )
    assert facts["CPF do titular"].startswith("***.") and facts["CPF do titular"].endswith("-**")
    assert family.holder.name not in str(v.facts)  # the name masked
    assert _validate(world, code, issued.content).file_matches is True
    assert _validate(world, code, issued.content + b" ").file_matches is False


def test_an_unknown_or_mistyped_code_is_told_apart(world: World):
    with pytest.raises(DomainError, match="Nenhum documento foi emitido"):
        _validate(world, "2222-2222-2222")
    with pytest.raises(DomainError, match="não confere") as mistyped:
        _validate(world, "2222-2222-2223")
    assert mistyped.value.field == "code"
    with pytest.raises(DomainError, match="Informe o código"):
        _validate(world, "  ")


def test_the_validation_is_rate_limited_per_client(world: World):
    for _ in range(documents.VALIDATION_LIMIT.attempts):
        with pytest.raises(DomainError, match="Nenhum documento"):
            _validate(world, "2222-2222-2222")
    with pytest.raises(DomainError, match="Muitas tentativas"):
        _validate(world, "2222-2222-2222")
    # A malformed code is refused before any lookup, and costs no attempt.
    with pytest.raises(DomainError, match="12 letras"):
        _validate(world, "ABC")


# ---------------------------------------------------------------- access


def test_permissions_and_companies_are_checked_first_and_nothing_is_written(
    world: World, family: Family
):
    no_personal = without_permissions(world.master, Permission.PERSONAL_DATA)
    no_finance = without_permissions(world.master, Permission.FINANCE)
    no_movements = without_permissions(world.master, Permission.MOVEMENTS)
    before = world.snapshot()
    audits, docs = _count(world, AuditRecord), _count(world, IssuedDocument)
    calls = [
        (
            "permissão para Dados pessoais",
            lambda: documents.income_tax_issue(
                uow=world.uow(),
                actor=no_personal,
                holder_id=family.holder.id,
                year=2019,
                now=NOW,
                base_url=BASE,
                render=income_tax_pdf,
            ),
        ),
        (
            "permissão para Financeiro",
            lambda: documents.income_tax_holders(uow=world.uow(), actor=no_finance, year=2019),
        ),
        (
            "permissão para Financeiro",
            lambda: documents.discharge_status(
                uow=world.uow(), actor=no_finance, year=2019, today=NOW.date()
            ),
        ),
        (
            "permissão para Movimentação",
            lambda: documents.permanence_issue(
                uow=world.uow(),
                actor=no_movements,
                term=family.holder.card_number,
                now=NOW,
                base_url=BASE,
                render=permanence_pdf,
            ),
        ),
        (  # outside the master's companies
            "acesso a esta empresa",
            lambda: documents.income_tax_issue_all(
                uow=world.uow("10004"),
                actor=world.master,
                year=2019,
                now=NOW,
                base_url=BASE,
                render=income_tax_pdf,
            ),
        ),
        (  # the company user 100002 has movements and reports only
            "permissão para Financeiro",
            lambda: documents.discharge_issue(
                uow=world.uow(),
                actor=world.user,
                year=2019,
                now=NOW,
                base_url=BASE,
                render=discharge_pdf,
            ),
        ),
    ]
    for says, call in calls:
        with pytest.raises(DomainError, match=says):
            call()
    assert world.snapshot() == before
    assert (_count(world, AuditRecord), _count(world, IssuedDocument)) == (audits, docs)


def test_the_refusals_in_advance_follow_the_permissions(world: World):
    assert all(v is None for v in documents.document_refusals(world.master).values())
    user = documents.document_refusals(world.user)  # movements and reports only
    assert "Financeiro" in (user[DocumentKind.INCOME_TAX] or "")
    assert "Financeiro" in (user[DocumentKind.DISCHARGE] or "")
    assert "Dados pessoais" in (user[DocumentKind.PERMANENCE] or "")
    # What it says in advance is what the issue does.
    with pytest.raises(DomainError, match="Dados pessoais"):
        documents.permanence_issue(
            uow=world.uow(),
            actor=world.user,
            term="123",
            now=NOW,
            base_url=BASE,
            render=permanence_pdf,
        )
    assert format_code("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"


def test_a_statement_of_the_year_in_course_says_it_is_partial(world: World, family: Family):
    holder = documents.income_tax_holders(uow=world.uow(), actor=world.master, year=NOW.year)[0]
    views: list[documents.IncomeTaxView] = []

    def render(view: documents.IncomeTaxView) -> bytes:
        views.append(view)
        return income_tax_pdf(view)

    issued = documents.income_tax_issue(
        uow=world.uow(),
        actor=world.master,
        holder_id=holder.id,
        year=NOW.year,
        now=NOW,
        base_url=BASE,
        render=render,
    )
    assert views[0].partial_until == NOW.date()
    assert "PARCIAL" in _text(issued.content)
    facts = dict(_validate(world, issued.codes[0]).facts)
    assert facts["Ano-calendário"] == f"{NOW.year} (parcial: pagamentos até 26/11/2026)"
    # A closed year is whole.
    documents.income_tax_issue(
        uow=world.uow(),
        actor=world.master,
        holder_id=family.holder.id,
        year=2019,
        now=NOW,
        base_url=BASE,
        render=render,
    )
    assert views[1].partial_until is None


# ---------------------------------------------------------------- proof of exclusion


def test_the_proof_of_exclusion_gets_a_code_and_is_validated(world: World):
    holder = world.holder("10001", dependents=True)
    number = movements.movement_apply(
        uow=world.uow(),
        actor=world.master,
        request=ExclusionRequest(
            card_number=holder.card_number,
            reason="pedido",
            effective_date=None,
            dependents_confirmed=True,
        ),
        now=NOW,
    ).protocol_number
    excluded = 1 + len(world.dependents(holder.id, status=None))
    issued = documents.exclusion_proof_issue(
        uow=world.uow(),
        actor=world.user,  # movements (and no finance, no personal data) is enough
        protocol_number=number,
        now=NOW,
        base_url=BASE,
        render=exclusion_proof_pdf,
    )
    pages = PdfReader(io.BytesIO(issued.content)).pages
    assert len(pages) == excluded
    code = issued.codes[0]
    assert all(code in p.extract_text() for p in pages)
    assert number in pages[0].extract_text() and holder.cpf not in _text(issued.content)
    [doc] = _docs(world)
    assert (doc.kind, doc.company_id) == ("exclusion_proof", world.company["10001"])
    v = _validate(world, code)
    facts = dict(v.facts)
    assert v.kind_label == "Comprovante de exclusão" and facts["Protocolo"] == number
    assert holder.name not in facts["Beneficiários excluídos"]
    assert facts["Motivo"] == "A pedido do beneficiário"

    before = world.snapshot()
    neither = without_permissions(world.master, Permission.MOVEMENTS, Permission.PROTOCOLS)
    for uow, actor, says in (
        (world.uow(), neither, "permissão"),
        (world.uow("10002"), world.master, "não encontrada"),
        (world.uow("10004"), world.master, "acesso"),
    ):
        with pytest.raises(DomainError, match=says):
            documents.exclusion_proof_issue(
                uow=uow,
                actor=actor,
                protocol_number=number,
                now=NOW,
                base_url=BASE,
                render=exclusion_proof_pdf,
            )
    assert world.snapshot() == before and len(_docs(world)) == 1
    assert "Protocolos" in (
        documents.document_refusals(neither)[DocumentKind.EXCLUSION_PROOF] or ""
    )


def test_the_issued_list_shows_the_kinds_the_actor_may_issue_newest_first(
    world: World, family: Family
):
    tax = documents.income_tax_issue(
        uow=world.uow(),
        actor=world.master,
        holder_id=family.holder.id,
        year=2019,
        now=NOW,
        base_url=BASE,
        render=income_tax_pdf,
    )
    later = NOW.replace(hour=16)
    letter = documents.permanence_issue(
        uow=world.uow(),
        actor=world.manager,
        term=family.holder.card_number,
        now=later,
        base_url=BASE,
        render=permanence_pdf,
    )
    rows = documents.issued_document_list(uow=world.uow(), actor=world.master)
    assert [r.code for r in rows] == [letter.codes[0], tax.codes[0]]
    assert rows[0].kind_label == "Carta de permanência" and rows[0].issued_at == later
    assert rows[0].issued_by.startswith(world.manager.user_code)
    assert rows[1].about.startswith("Ano-calendário: 2019 · Titular: ")
    assert family.holder.name not in rows[1].about  # as the public page: masked
    # Another company of the group has none; the user with movements only sees the proofs
    # of exclusion (none here); with no permission at all, a refusal.
    assert documents.issued_document_list(uow=world.uow("10002"), actor=world.master) == []
    assert documents.issued_document_list(uow=world.uow(), actor=world.user) == []
    nothing = without_permissions(world.master, *Permission)
    with pytest.raises(DomainError, match="permissão"):
        documents.issued_document_list(uow=world.uow(), actor=nothing)
