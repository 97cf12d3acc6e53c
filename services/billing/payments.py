"""Duplicate boletos, the update of overdue invoices and the payment status.

A boleto's `amount` is what it charges (the invoice amount plus the `fine` and
`interest` of an overdue update), the value its barcode and PIX code carry. An invoice
has at most one "active" boleto: issuing a duplicate reuses it; an overdue update
marks it "replaced" (pointing at its successor) in the same transaction that creates
the new one.

The bank's free field follows the operator's agreement with its bank (banco, convênio,
carteira, agência/conta: the account manager's "Configurações do operador",
`services.operator_settings`), never the ANS registration; with no agreement configured
no boleto is issued and nothing is written. The "nosso número" is a never-repeated
counter, and the PIX txid ("BOL" + the nosso número, stored in `Boleto.txid`, unique)
is the boleto's own, whatever the invoice id. Every barcode, typed line and PIX code is
checked with the project's own validators before it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import BankReturnLine, Boleto, Company, Invoice, Operator, Payment
from data.uow import UnitOfWork
from services.actors import Actor, Permission, Role
from services.audit import audit_record
from services.billing import InvoiceRow, invoice_row_of
from services.mail.outbox import Delivery, mail_deliver, mail_queue
from services.numbering import counter_take, local_date
from services.protocols import protocol_open
from services.rules.billing import PAYMENT_METHOD_LABELS, invoice_status
from services.rules.boleto import (
    BankAgreement,
    agreement_free_field,
    bank_agreement_missing,
    bank_agreement_parse,
    barcode,
    format_typed_line,
    is_valid_barcode,
    is_valid_typed_line,
    typed_line,
)
from services.rules.documents import format_cnpj, format_company_document, is_valid_email
from services.rules.errors import DomainError, FieldErrors
from services.rules.formats import format_date, format_money
from services.rules.money import OverdueCharge, overdue_payment_dates, overdue_update
from services.rules.pix import boleto_txid, is_valid_pix_payload, pix_payload

OUR_NUMBER_COUNTER = "boleto_our_number"
OUR_NUMBER_DIGITS = 10
SETTINGS_PAGE = "Financeiro > Configurações do operador"


@dataclass(frozen=True)
class BoletoView:
    """Everything a boleto shows: for the PDF, the typed line and the PIX code."""

    boleto_id: int
    invoice_id: int
    billing_month: date
    due_date: date
    document_amount: Decimal
    fine: Decimal
    interest: Decimal
    amount: Decimal
    our_number: str
    barcode: str
    typed_line: str
    typed_line_formatted: str
    pix_payload: str
    issued_at: datetime
    operator_name: str
    operator_document: str
    operator_city: str
    bank_code: str
    agreement: str
    bank_wallet: str
    bank_branch: str
    bank_account: str
    payer_name: str
    payer_document: str
    payer_address: str
    payer_email: str
    fine_pct: Decimal
    monthly_interest_pct: Decimal

    @property
    def file_name(self) -> str:
        return f"boleto_{self.billing_month:%Y-%m}_{self.our_number}.pdf"

    @property
    def beneficiary_code(self) -> str:
        """The "Agência/Código do beneficiário" box: "1234-5 / 12345-6"."""
        return " / ".join(p for p in (self.bank_branch, self.bank_account) if p)


def _settings_of(op: Operator) -> dict[str, str | None]:
    return {
        "bank_code": op.bank_code,
        "bank_agreement": op.bank_agreement,
        "bank_wallet": op.bank_wallet,
        "bank_branch": op.bank_branch,
        "bank_account": op.bank_account,
    }


def _bank_agreement(op: Operator, actor: Actor) -> BankAgreement:
    """The operator's bank agreement, or a refusal before anything is written: what to
    fix for the account manager, a polite word for the company's users."""
    settings = _settings_of(op)
    missing = bank_agreement_missing(settings)
    problem = ""
    if missing:
        problem = f"falta {', '.join(missing)}. Preencha"
    else:
        try:
            return bank_agreement_parse(**settings)
        except FieldErrors as exc:
            problem = "; ".join(m.rstrip(".") for m in exc.errors.values()) + ". Corrija"
    if actor.role is Role.ACCOUNT_MANAGER:
        raise DomainError(
            f"Convênio bancário não configurado: {problem} em {SETTINGS_PAGE} "
            "antes de emitir boletos."
        )
    raise DomainError(
        "Não foi possível emitir o boleto agora: a operadora ainda está concluindo a "
        "configuração da cobrança bancária. Tente novamente mais tarde ou abra um "
        "protocolo para receber o boleto."
    )


def _operator(session: Session) -> Operator:
    op = session.scalars(select(Operator).order_by(Operator.id)).first()
    if op is None:
        raise RuntimeError("no operator configured")
    return op


def _invoice(session: Session, company_id: int, invoice_id: int) -> Invoice:
    inv = session.scalars(
        select(Invoice)
        .where(Invoice.id == invoice_id, Invoice.company_id == company_id)
        .with_for_update()
    ).one_or_none()
    if inv is None:
        raise DomainError("Fatura não encontrada nesta empresa.", "invoice")
    return inv


def _check_payable(inv: Invoice) -> None:
    if inv.status == "paid":
        raise DomainError("Esta fatura já está paga: não há boleto a emitir.", "invoice")
    if inv.status == "cancelled":
        raise DomainError("Esta fatura foi cancelada: não há boleto a emitir.", "invoice")
    if inv.amount <= 0:
        raise DomainError("Esta fatura não tem valor a pagar.", "invoice")


def _active_boleto(session: Session, invoice_id: int) -> Boleto | None:
    return session.scalars(
        select(Boleto)
        .where(Boleto.invoice_id == invoice_id, Boleto.status == "active")
        .order_by(Boleto.id.desc())
    ).first()


def _new_boleto(
    session: Session,
    op: Operator,
    bank: BankAgreement,
    inv: Invoice,
    *,
    due: date,
    charge: OverdueCharge | None,
    now: datetime,
) -> Boleto:
    fine = charge.fine if charge else Decimal("0.00")
    interest = charge.interest if charge else Decimal("0.00")
    total = charge.total if charge else inv.amount
    seq = counter_take(session, OUR_NUMBER_COUNTER)
    our_number = f"{seq:0{OUR_NUMBER_DIGITS}d}"
    code = barcode(bank.bank_code, due, total, agreement_free_field(bank, our_number))
    line = typed_line(code)
    txid = boleto_txid(our_number)
    pix = pix_payload(op.pix_key, op.name, op.city, total, txid)
    if not (is_valid_barcode(code) and is_valid_typed_line(line) and is_valid_pix_payload(pix)):
        raise RuntimeError(f"boleto of invoice {inv.id} does not validate")  # a bug, never data
    boleto = Boleto(
        invoice_id=inv.id,
        due_date=due,
        amount=total,
        fine=fine,
        interest=interest,
        our_number=our_number,
        barcode=code,
        typed_line=line,
        pix_payload=pix,
        txid=txid,
        status="active",
        issued_at=now,
    )
    session.add(boleto)
    session.flush()
    return boleto


def _address(c: Company) -> str:
    street = ", ".join(p for p in (c.street, c.number, c.complement) if p)
    place = " - ".join(p for p in (c.neighbourhood, c.city, c.state) if p)
    cep = f"CEP {c.cep[:5]}-{c.cep[5:]}" if c.cep and len(c.cep) == 8 else ""
    return " · ".join(p for p in (street, place, cep) if p)


def _view(b: Boleto, inv: Invoice, company: Company, op: Operator) -> BoletoView:
    operator_document = format_cnpj(op.cnpj) if len(op.cnpj) == 14 else op.cnpj
    return BoletoView(
        boleto_id=b.id,
        invoice_id=inv.id,
        billing_month=inv.billing_month,
        due_date=b.due_date,
        document_amount=inv.amount,
        fine=b.fine,
        interest=b.interest,
        amount=b.amount,
        our_number=b.our_number,
        barcode=b.barcode,
        typed_line=b.typed_line,
        typed_line_formatted=format_typed_line(b.typed_line),
        pix_payload=b.pix_payload,
        issued_at=b.issued_at,
        operator_name=op.name,
        operator_document=operator_document,
        operator_city=op.city,
        bank_code=b.barcode[:3],
        agreement=op.bank_agreement,
        bank_wallet=op.bank_wallet,
        bank_branch=op.bank_branch,
        bank_account=op.bank_account,
        payer_name=company.name,
        payer_document=format_company_document(company.document, company.document_type),
        payer_address=_address(company),
        payer_email=company.contact_email or "",
        fine_pct=company.fine_pct,
        monthly_interest_pct=company.monthly_interest_pct,
    )


def _scope(uow: UnitOfWork, actor: Actor) -> int:
    actor.require(Permission.FINANCE, uow.company_id)
    return uow.require_company()


def boleto_issue(*, uow: UnitOfWork, actor: Actor, invoice_id: int, now: datetime) -> BoletoView:
    """The invoice's duplicate boleto: its active boleto, issued (and audited) if none."""
    company_id = _scope(uow, actor)
    with uow:
        session = uow.session
        inv = _invoice(session, company_id, invoice_id)
        _check_payable(inv)
        op = _operator(session)
        company = session.get(Company, company_id)
        assert company is not None
        boleto = _active_boleto(session, inv.id)
        if boleto is None:
            bank = _bank_agreement(op, actor)
            boleto = _new_boleto(session, op, bank, inv, due=inv.due_date, charge=None, now=now)
            audit_record(
                session,
                user_id=actor.user_id,
                company_id=company_id,
                action="boleto_issue",
                entity="boleto",
                entity_id=boleto.id,
                before=None,
                after={
                    "invoice_id": inv.id,
                    "due_date": boleto.due_date,
                    "amount": boleto.amount,
                    "our_number": boleto.our_number,
                    "txid": boleto.txid,
                },
                now=now,
            )
            view = _view(boleto, inv, company, op)
            uow.commit()
            return view
        return _view(boleto, inv, company, op)


def boleto_send_email(
    *,
    uow: UnitOfWork,
    actor: Actor,
    invoice_id: int,
    to: str,
    pdf: bytes,
    now: datetime,
) -> Delivery:
    """E-mail the invoice's active boleto, PDF attached, to ``to``.

    The message is recorded (with the PDF's bytes) in this transaction and handed to the
    SMTP server after the commit, with no transaction open; the returned `Delivery` says
    whether it went (`delivered`) or failed (kept in the outbox for a retry)."""
    company_id = _scope(uow, actor)
    address = (to or "").strip()
    if not is_valid_email(address):
        raise DomainError("Informe um e-mail válido, como nome@empresa.com.br.", "email")
    if not pdf.startswith(b"%PDF"):
        raise DomainError("Gere o boleto antes de enviá-lo.", "email")
    with uow:
        session = uow.session
        inv = _invoice(session, company_id, invoice_id)
        _check_payable(inv)
        boleto = _active_boleto(session, inv.id)
        if boleto is None:
            raise DomainError("Gere o boleto antes de enviá-lo.", "email")
        op = _operator(session)
        company = session.get(Company, company_id)
        assert company is not None
        view = _view(boleto, inv, company, op)
        body = (
            f"Olá,\n\nSegue o boleto da fatura de competência {inv.billing_month:%m/%Y} "
            f"de {company.name}.\n\n"
            f"Vencimento: {format_date(view.due_date)}\n"
            f"Valor: {format_money(view.amount)}\n"
            f"Linha digitável: {view.typed_line_formatted}\n\n"
            f"PIX copia e cola:\n{view.pix_payload}\n\n"
            f"{op.name}"
        )
        queued = mail_queue(
            session,
            to=address,
            subject=f"Boleto da fatura {inv.billing_month:%m/%Y} - {op.name}",
            body=body,
            now=now,
            attachment=(view.file_name, pdf, "application/pdf"),
        )
        audit_record(
            session,
            user_id=actor.user_id,
            company_id=company_id,
            action="boleto_email",
            entity="boleto",
            entity_id=boleto.id,
            before=None,
            after={"to": address, "invoice_id": inv.id},
            now=now,
        )
        uow.commit()
    return mail_deliver(uow=uow, ids=[queued], now=now)[0]


# ---------------------------------------------------------------- overdue update


@dataclass(frozen=True)
class OverdueInvoice:
    """An overdue invoice and the new payment dates the contract still allows."""

    invoice: InvoiceRow
    payment_dates: list[date]
    limit_date: date
    active_boleto_due: date | None
    active_boleto_amount: Decimal | None


@dataclass(frozen=True)
class OverdueQuote:
    """An overdue invoice's amount on a new payment date."""

    invoice_id: int
    pay_date: date
    amount: Decimal
    fine: Decimal
    interest: Decimal
    total: Decimal
    days_late: int


@dataclass(frozen=True)
class ReissueResult:
    quote: OverdueQuote
    boleto: BoletoView
    protocol_number: str
    replaced_boleto_id: int | None


def overdue_invoice_list(*, uow: UnitOfWork, actor: Actor, today: date) -> list[OverdueInvoice]:
    """The company's overdue invoices, oldest first, with the dates they may be paid on."""
    company_id = _scope(uow, actor)
    with uow:
        session = uow.session
        company = session.get(Company, company_id)
        assert company is not None
        limit = company.overdue_update_limit_days
        rows = session.execute(
            select(Invoice, Boleto.due_date, Boleto.amount)
            .outerjoin(Boleto, (Boleto.invoice_id == Invoice.id) & (Boleto.status == "active"))
            .where(
                Invoice.company_id == company_id,
                Invoice.status == "open",
                Invoice.due_date < today,
            )
            .order_by(Invoice.billing_month, Boleto.id.desc())
        ).all()
        seen: set[int] = set()
        result = []
        for inv, boleto_due, boleto_amount in rows:
            if inv.id in seen:
                continue
            seen.add(inv.id)
            result.append(
                OverdueInvoice(
                    invoice=invoice_row_of(inv, today),
                    payment_dates=overdue_payment_dates(inv.due_date, today, limit),
                    limit_date=inv.due_date + timedelta(days=limit),
                    active_boleto_due=boleto_due,
                    active_boleto_amount=boleto_amount,
                )
            )
        return result


def _quote(inv: Invoice, company: Company, pay_date: date, today: date) -> OverdueQuote:
    if invoice_status(inv.status, inv.due_date, today) != "overdue":
        raise DomainError("Só faturas vencidas e em aberto podem ser atualizadas.", "invoice")
    allowed = overdue_payment_dates(inv.due_date, today, company.overdue_update_limit_days)
    if not allowed:
        raise DomainError(
            f"O prazo de atualização desta fatura terminou ({company.overdue_update_limit_days} "
            "dias após o vencimento, pelo contrato). Abra um protocolo para negociar.",
            "pay_date",
        )
    if pay_date not in allowed:
        raise DomainError(
            f"Escolha um dia útil entre {format_date(allowed[0])} e {format_date(allowed[-1])} "
            "para o novo vencimento.",
            "pay_date",
        )
    charge = overdue_update(
        inv.amount, inv.due_date, pay_date, company.fine_pct, company.monthly_interest_pct
    )
    return OverdueQuote(
        inv.id,
        pay_date,
        charge.amount,
        charge.fine,
        charge.interest,
        charge.total,
        charge.days_late,
    )


def overdue_quote(
    *, uow: UnitOfWork, actor: Actor, invoice_id: int, pay_date: date, today: date
) -> OverdueQuote:
    """Fine, interest and new total of an overdue invoice paid on ``pay_date``."""
    company_id = _scope(uow, actor)
    with uow:
        session = uow.session
        inv = _invoice(session, company_id, invoice_id)
        company = session.get(Company, company_id)
        assert company is not None
        return _quote(inv, company, pay_date, today)


def overdue_reissue(
    *, uow: UnitOfWork, actor: Actor, invoice_id: int, pay_date: date, now: datetime
) -> ReissueResult:
    """Issue a new boleto for an overdue invoice, due on ``pay_date`` with fine and
    interest; the previous active boleto is replaced; a protocol records it."""
    company_id = _scope(uow, actor)
    today = local_date(now)
    with uow:
        session = uow.session
        inv = _invoice(session, company_id, invoice_id)
        _check_payable(inv)
        company = session.get(Company, company_id)
        assert company is not None
        quote = _quote(inv, company, pay_date, today)
        op = _operator(session)
        bank = _bank_agreement(op, actor)
        previous = _active_boleto(session, inv.id)
        charge = OverdueCharge(
            quote.amount, quote.fine, quote.interest, quote.total, quote.days_late
        )
        boleto = _new_boleto(session, op, bank, inv, due=pay_date, charge=charge, now=now)
        if previous is not None:
            previous.status = "replaced"
            previous.replaced_by_id = boleto.id
        protocol = protocol_open(
            session,
            company_id=company_id,
            kind="overdue_update",
            subject=f"Atualização da fatura {inv.billing_month:%m/%Y}",
            description=(
                f"Fatura de competência {inv.billing_month:%m/%Y}, vencida em "
                f"{format_date(inv.due_date)}, valor {format_money(quote.amount)}: novo "
                f"vencimento {format_date(pay_date)}, multa {format_money(quote.fine)}, juros "
                f"{format_money(quote.interest)} ({quote.days_late} dias), "
                f"total {format_money(quote.total)}."
            ),
            user_id=actor.user_id,
            now=now,
            done_note=f"Novo boleto emitido (nosso número {boleto.our_number}).",
        )
        audit_record(
            session,
            user_id=actor.user_id,
            company_id=company_id,
            action="overdue_update",
            entity="boleto",
            entity_id=boleto.id,
            before=None
            if previous is None
            else {
                "boleto_id": previous.id,
                "due_date": previous.due_date,
                "amount": previous.amount,
                "status": "active",
            },
            after={
                "invoice_id": inv.id,
                "due_date": pay_date,
                "amount": quote.amount,
                "fine": quote.fine,
                "interest": quote.interest,
                "total": quote.total,
                "protocol": protocol.number,
                "our_number": boleto.our_number,
                "txid": boleto.txid,
                "replaced_boleto_id": previous.id if previous else None,
            },
            now=now,
        )
        session.flush()
        view = _view(boleto, inv, company, op)
        result = ReissueResult(quote, view, protocol.number, previous.id if previous else None)
        uow.commit()
        return result


# ---------------------------------------------------------------- recording a payment


def payment_record(
    session: Session,
    *,
    invoice: Invoice,
    boleto: Boleto | None,
    paid_on: date,
    amount: Decimal,
    user_id: int | None,
    now: datetime,
    source: str,
    charges: Decimal = Decimal("0.00"),
) -> Payment:
    """Record a payment that covers ``invoice`` (the caller checked the amount, holds the
    invoice and chose the companies): a Payment row (method "boleto"), the invoice and
    the boleto paid, any other active boleto of the invoice cancelled (the next remessa
    writes it off), audited with ``source`` and the fine and interest paid."""
    payment = Payment(
        invoice_id=invoice.id,
        boleto_id=boleto.id if boleto else None,
        paid_on=paid_on,
        amount=amount,
        method="boleto",
    )
    session.add(payment)
    before = {"status": invoice.status, "paid_on": invoice.paid_on}
    invoice.status, invoice.paid_on = "paid", paid_on
    cancelled = []
    for other in session.scalars(
        select(Boleto).where(Boleto.invoice_id == invoice.id, Boleto.status == "active")
    ):
        if boleto is None or other.id != boleto.id:
            other.status = "cancelled"
            cancelled.append(other.our_number)
    if boleto is not None:
        boleto.status = "paid"
    session.flush()
    audit_record(
        session,
        user_id=user_id,
        company_id=invoice.company_id,
        action="payment_record",
        entity="invoice",
        entity_id=invoice.id,
        before=before,
        after={
            "status": "paid",
            "paid_on": paid_on,
            "amount": amount,
            "fine_and_interest": charges,
            "method": "boleto",
            "our_number": boleto.our_number if boleto else None,
            "cancelled_boletos": cancelled,
            "source": source,
        },
        now=now,
    )
    return payment


# ---------------------------------------------------------------- payment status


@dataclass(frozen=True)
class PaymentRow:
    invoice_id: int
    billing_month: date
    due_date: date
    paid_on: date
    amount: Decimal
    method: str
    # Fine and interest paid, when the bank's retorno said (None: not known).
    charges: Decimal | None = None
    credited_on: date | None = None

    @property
    def method_label(self) -> str:
        return PAYMENT_METHOD_LABELS.get(self.method, self.method)


@dataclass(frozen=True)
class PaymentStatus:
    """What was paid (date, amount, means) and what is open or overdue, with totals."""

    paid: list[PaymentRow]
    open: list[InvoiceRow]
    overdue: list[InvoiceRow]
    paid_total: Decimal
    open_total: Decimal
    overdue_total: Decimal


def _sum(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal("0.00"))


def payment_status(
    *, uow: UnitOfWork, actor: Actor, today: date, year: int | None = None
) -> PaymentStatus:
    """Payments received and invoices still open or overdue (of one year, or all)."""
    company_id = _scope(uow, actor)
    paid_query = (
        select(
            Payment,
            Invoice.billing_month,
            Invoice.due_date,
            BankReturnLine.charges,
            BankReturnLine.credited_on,
        )
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .outerjoin(BankReturnLine, BankReturnLine.payment_id == Payment.id)
        .where(Invoice.company_id == company_id)
    )
    open_query = select(Invoice).where(Invoice.company_id == company_id, Invoice.status == "open")
    if year is not None:
        first, last = date(year, 1, 1), date(year, 12, 1)
        paid_query = paid_query.where(Invoice.billing_month.between(first, last))
        open_query = open_query.where(Invoice.billing_month.between(first, last))
    with uow:
        session = uow.session
        paid = [
            PaymentRow(p.invoice_id, month, due, p.paid_on, p.amount, p.method, charges, credited)
            for p, month, due, charges, credited in session.execute(
                paid_query.order_by(Payment.paid_on.desc(), Payment.id.desc())
            ).all()
        ]
        unpaid = [
            invoice_row_of(inv, today)
            for inv in session.scalars(open_query.order_by(Invoice.billing_month))
        ]
    open_rows = [r for r in unpaid if r.status == "open"]
    overdue_rows = [r for r in unpaid if r.status == "overdue"]
    return PaymentStatus(
        paid=paid,
        open=open_rows,
        overdue=overdue_rows,
        paid_total=_sum([p.amount for p in paid]),
        open_total=_sum([r.amount for r in open_rows]),
        overdue_total=_sum([r.amount for r in overdue_rows]),
    )
