"""Arquivos bancários (account managers): CNAB 240 remessas and retornos.

The remessa registers the boletos with the bank: every active boleto of an open invoice
not sent yet goes as an "entrada" (01), and every boleto sent before and no longer
payable (replaced by an overdue update, or cancelled when its invoice was paid by
another boleto) as a "pedido de baixa" (02). "Since the last remessa" is kept per
boleto (`BankRemittanceItem`, unique per boleto and movement), so two account managers
with different portfolios never send, nor skip, each other's boletos. The NSA is the
operator's one sequence (a locked counter).

The retorno is read title by title (services.rules.cnab240): a payment (occurrence 06
or 17) is matched to its boleto by the nosso número, and the invoice is paid when the
amount paid covers what is owed on the payment date: the invoice amount plus the fine
and the interest of the contract (services.rules.money.overdue_update, from the
invoice's original due date, Lei 7.089/1983 included). Then a `Payment` (method
"boleto") is recorded, the invoice and the boleto are marked paid, and any other active
boleto of the invoice is cancelled (the next remessa writes it off). A payment short
of what is owed is listed as divergent, a nosso número no boleto has as unknown, and
nothing is guessed. A file is stored once (SHA-256 of its content): read again, it
changes nothing; a payment already recorded is never recorded twice. Lines of
companies outside the reader's portfolio are listed and left for a manager who has
them (reading the same file then applies those lines only).

Account managers only, over their portfolio companies (or the ones given); every
change is audited with the company it concerns.
"""

from __future__ import annotations

import hashlib
from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from data.models import (
    BankRemittance,
    BankRemittanceItem,
    BankReturnFile,
    BankReturnLine,
    Boleto,
    Company,
    Invoice,
    Operator,
    Payment,
)
from data.uow import UnitOfWork, across_companies
from services.actors import Actor, Permission
from services.audit import audit_record
from services.billing.payments import SETTINGS_PAGE, payment_record
from services.numbering import BRT, counter_take, local_date
from services.rules.boleto import bank_agreement_missing, bank_agreement_parse
from services.rules.cnab240 import (
    INTEREST_EXEMPT,
    INTEREST_MONTHLY_RATE,
    INTEREST_PER_DAY,
    MOVEMENT_ENTRY,
    MOVEMENT_LABELS,
    MOVEMENT_WRITE_OFF,
    Account,
    ReturnPayment,
    Title,
    build_remittance,
    our_number_of,
    parse_return,
)
from services.rules.errors import DomainError, FieldErrors
from services.rules.formats import format_date, format_money
from services.rules.money import overdue_update, round_money

NSA_COUNTER = "cnab240_remessa_nsa"
MAX_RETURN_BYTES = 5 * 1024 * 1024
BANK_NAMES = {
    "001": "Banco do Brasil S.A.",
    "033": "Banco Santander",
    "104": "Caixa Econômica Federal",
    "237": "Banco Bradesco",
    "341": "Itaú Unibanco",
    "756": "Sicoob",
}
RETURN_STATUS_LABELS = {
    "paid": "Pago: fatura quitada",
    "divergent": "Valor divergente",
    "unknown": "Boleto desconhecido",
    "already_paid": "Já processado",
    "not_payment": "Não é pagamento",
    "outside": "Fora da sua carteira",
}
REFUSAL = "Só o gestor de contas gera e lê os arquivos bancários."


def _scope(actor: Actor, company_ids: Sequence[int] | None) -> list[int]:
    if not actor.is_account_manager:
        raise DomainError(REFUSAL)
    ids = sorted(actor.company_ids if company_ids is None else set(company_ids))
    if not ids:
        raise DomainError("Nenhuma empresa na sua carteira.")
    for company_id in ids:
        actor.require(Permission.FINANCE, company_id)
    return ids


def _operator(session: Session) -> Operator:
    op = session.scalars(select(Operator).order_by(Operator.id)).first()
    if op is None:
        raise DomainError("Nenhum operador cadastrado.")
    return op


def _account(op: Operator) -> Account:
    settings: dict[str, str | None] = {
        "bank_code": op.bank_code,
        "bank_agreement": op.bank_agreement,
        "bank_wallet": op.bank_wallet,
        "bank_branch": op.bank_branch,
        "bank_account": op.bank_account,
    }
    missing = bank_agreement_missing(settings)
    if missing:
        raise DomainError(
            f"Convênio bancário não configurado: falta {', '.join(missing)}. Preencha em "
            f"{SETTINGS_PAGE}."
        )
    try:
        bank = bank_agreement_parse(**settings)
    except FieldErrors as exc:
        raise DomainError(f"Convênio bancário inválido: {exc.message} ({SETTINGS_PAGE}).") from exc
    return Account(
        bank_code=bank.bank_code,
        bank_name=BANK_NAMES.get(bank.bank_code, f"Banco {bank.bank_code}"),
        company_name=op.name,
        cnpj=op.cnpj,
        agreement=bank.agreement,
        wallet=bank.wallet,
        branch=bank.branch,
        account=bank.account,
    )


# ---------------------------------------------------------------- remessa


@dataclass(frozen=True)
class RemessaRow:
    """A boleto that goes (or went) in a remessa."""

    boleto_id: int
    company_id: int
    company_code: str
    company_name: str
    billing_month: date
    our_number: str
    due_date: date
    amount: Decimal
    movement: str

    @property
    def movement_label(self) -> str:
        return MOVEMENT_LABELS[self.movement]


@dataclass(frozen=True)
class RemessaFile:
    remittance_id: int
    nsa: int
    file_name: str
    content: bytes
    rows: list[RemessaRow]


@dataclass(frozen=True)
class RemessaSummary:
    remittance_id: int
    nsa: int
    generated_at: datetime
    file_name: str
    titles: int
    entries_total: Decimal
    companies: int


def _sent(boleto_id: object, movement: str) -> object:
    item = aliased(BankRemittanceItem)
    return exists().where(item.boleto_id == boleto_id, item.movement == movement)


def _pending(session: Session, ids: list[int]) -> list[tuple[Boleto, Invoice, Company, str]]:
    entries = and_(
        Boleto.status == "active",
        Invoice.status == "open",
        ~_sent(Boleto.id, MOVEMENT_ENTRY),  # type: ignore[operator]
    )
    write_offs = and_(
        Boleto.status.in_(("replaced", "cancelled")),
        _sent(Boleto.id, MOVEMENT_ENTRY),  # type: ignore[arg-type]
        ~_sent(Boleto.id, MOVEMENT_WRITE_OFF),  # type: ignore[operator]
    )
    rows = session.execute(
        select(Boleto, Invoice, Company)
        .join(Invoice, Invoice.id == Boleto.invoice_id)
        .join(Company, Company.id == Invoice.company_id)
        .where(Invoice.company_id.in_(ids), entries | write_offs)
        .order_by(Company.code, Invoice.billing_month, Boleto.id)
    ).all()
    return [
        (b, inv, c, MOVEMENT_ENTRY if b.status == "active" else MOVEMENT_WRITE_OFF)
        for b, inv, c in rows
    ]


def _row(b: Boleto, inv: Invoice, c: Company, movement: str) -> RemessaRow:
    return RemessaRow(
        b.id, c.id, c.code, c.name, inv.billing_month, b.our_number, b.due_date, b.amount, movement
    )


def _title(b: Boleto, inv: Invoice, c: Company, movement: str, issued: date) -> Title:
    updated = b.due_date != inv.due_date or b.fine > 0 or b.interest > 0
    next_day = b.due_date + timedelta(days=1)
    rate = c.monthly_interest_pct
    if rate <= 0:
        interest_code, interest_value = INTEREST_EXEMPT, Decimal("0.00")
    elif updated:  # per day on the original amount, never on the fine already charged
        interest_code, interest_value = INTEREST_PER_DAY, round_money(inv.amount * rate / 3000)
    else:
        interest_code, interest_value = INTEREST_MONTHLY_RATE, rate
    street = ", ".join(p for p in (c.street, c.number, c.complement) if p)
    limit = inv.due_date + timedelta(days=c.overdue_update_limit_days)
    return Title(
        movement=movement,
        our_number=b.our_number,
        document_number=f"{inv.billing_month:%Y%m}-{inv.id}",
        company_reference=f"BOLETO {b.id}",
        issue_date=local_date(b.issued_at),
        due_date=b.due_date,
        amount=b.amount,
        interest_code=interest_code,
        interest_date=None if interest_code == INTEREST_EXEMPT else next_day,
        interest_value=interest_value,
        fine_pct=Decimal("0") if updated else c.fine_pct,
        fine_date=next_day,
        write_off_days=(limit - b.due_date).days,
        payer_document=c.document,
        payer_document_type=c.document_type,
        payer_name=c.name,
        payer_address=street,
        payer_neighbourhood=c.neighbourhood or "",
        payer_cep=c.cep or "",
        payer_city=c.city or "",
        payer_state=c.state or "",
    )


def remessa_preview(
    *, uow: UnitOfWork, actor: Actor, company_ids: Sequence[int] | None = None
) -> list[RemessaRow]:
    """What the next remessa of the portfolio (or the companies given) would carry."""
    ids = _scope(actor, company_ids)
    with uow, across_companies(uow.session):
        return [_row(*p) for p in _pending(uow.session, ids)]


def remessa_generate(
    *,
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    company_ids: Sequence[int] | None = None,
) -> RemessaFile:
    """A new remessa with every boleto not sent yet (entradas and baixas), numbered with
    the next NSA, stored and audited (one record per company)."""
    ids = _scope(actor, company_ids)
    with uow, across_companies(uow.session):
        session = uow.session
        acc = _account(_operator(session))
        # The NSA first: its locked counter makes a second remessa at the same moment wait,
        # then see what this one sent (and the unique boleto + movement backs it up).
        nsa = counter_take(session, NSA_COUNTER)
        pending = _pending(session, ids)
        if not pending:
            raise DomainError(
                "Não há boletos novos nem atualizados desde a última remessa: nada a enviar."
            )
        local = now.astimezone(BRT)
        titles = [_title(b, inv, c, mv, local.date()) for b, inv, c, mv in pending]
        remittance = build_remittance(acc, titles, nsa=nsa, generated_at=local)
        file_name = f"remessa_cnab240_{nsa:06d}_{local:%Y%m%d}.rem"
        record = BankRemittance(
            nsa=nsa,
            generated_at=now,
            user_id=actor.user_id or None,
            file_name=file_name,
            content=remittance.content,
            titles=remittance.titles,
            entries_total=remittance.entries_total,
        )
        session.add(record)
        session.flush()
        rows = [_row(*p) for p in pending]
        for r in rows:
            session.add(
                BankRemittanceItem(
                    remittance_id=record.id,
                    boleto_id=r.boleto_id,
                    company_id=r.company_id,
                    movement=r.movement,
                    amount=r.amount,
                )
            )
        for company_id in sorted({r.company_id for r in rows}):
            mine = [r for r in rows if r.company_id == company_id]
            audit_record(
                session,
                user_id=actor.user_id or None,
                company_id=company_id,
                action="remessa_generate",
                entity="bank_remittance",
                entity_id=record.id,
                before=None,
                after={
                    "nsa": nsa,
                    "file_name": file_name,
                    "entradas": [r.our_number for r in mine if r.movement == MOVEMENT_ENTRY],
                    "baixas": [r.our_number for r in mine if r.movement == MOVEMENT_WRITE_OFF],
                },
                now=now,
            )
        uow.commit()
        return RemessaFile(record.id, nsa, file_name, remittance.content, rows)


def _remittance_companies(session: Session) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for rid, cid in session.execute(
        select(BankRemittanceItem.remittance_id, BankRemittanceItem.company_id).distinct()
    ):
        out.setdefault(rid, set()).add(cid)
    return out


def remessa_list(
    *, uow: UnitOfWork, actor: Actor, company_ids: Sequence[int] | None = None
) -> list[RemessaSummary]:
    """Past remessas with boletos of the companies given (the portfolio), newest first;
    only those whose every boleto is of the actor's portfolio (a remessa is the payers'
    data)."""
    ids = set(_scope(actor, company_ids))
    with uow, across_companies(uow.session):
        session = uow.session
        companies = _remittance_companies(session)
        visible = [
            rid for rid, cids in companies.items() if cids & ids and cids <= set(actor.company_ids)
        ]
        if not visible:
            return []
        return [
            RemessaSummary(
                r.id,
                r.nsa,
                r.generated_at,
                r.file_name,
                r.titles,
                r.entries_total,
                len(companies[r.id]),
            )
            for r in session.scalars(
                select(BankRemittance)
                .where(BankRemittance.id.in_(visible))
                .order_by(BankRemittance.nsa.desc())
            )
        ]


def remessa_file(
    *,
    uow: UnitOfWork,
    actor: Actor,
    remittance_id: int,
    company_ids: Sequence[int] | None = None,
) -> RemessaFile:
    """A past remessa, byte for byte as generated, to download again."""
    _scope(actor, company_ids)
    with uow, across_companies(uow.session):
        session = uow.session
        record = session.get(BankRemittance, remittance_id)
        cids = _remittance_companies(session).get(remittance_id, set())
        if record is None or not cids or not cids <= set(actor.company_ids):
            raise DomainError("Remessa não encontrada na sua carteira.")
        rows = [
            _row(b, inv, c, item.movement)
            for item, b, inv, c in session.execute(
                select(BankRemittanceItem, Boleto, Invoice, Company)
                .join(Boleto, Boleto.id == BankRemittanceItem.boleto_id)
                .join(Invoice, Invoice.id == Boleto.invoice_id)
                .join(Company, Company.id == Invoice.company_id)
                .where(BankRemittanceItem.remittance_id == remittance_id)
                .order_by(BankRemittanceItem.id)
            )
        ]
        return RemessaFile(record.id, record.nsa, record.file_name, record.content, rows)


# ---------------------------------------------------------------- retorno


@dataclass(frozen=True)
class RetornoLine:
    line_number: int
    title_id: str
    movement: str
    status: str
    company_code: str
    company_name: str
    billing_month: date | None
    paid: Decimal
    charges: Decimal
    owed: Decimal | None
    paid_on: date | None
    credited_on: date | None
    note: str

    @property
    def status_label(self) -> str:
        return RETURN_STATUS_LABELS[self.status]


@dataclass(frozen=True)
class RetornoResult:
    file_name: str
    nsa: int
    already_read: datetime | None  # when the same file was read before
    lines: list[RetornoLine]
    applied: int  # payments recorded by this reading

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)


def _owed(inv: Invoice, company: Company, paid_on: date) -> Decimal:
    return overdue_update(
        inv.amount, inv.due_date, paid_on, company.fine_pct, company.monthly_interest_pct
    ).total


def _evaluate(
    session: Session,
    acc: Account,
    t: ReturnPayment,
    scope: set[int],
    line: BankReturnLine,
    actor: Actor,
    now: datetime,
) -> None:
    """Match one title and apply it when it pays an invoice in scope (fills ``line``)."""
    line.movement, line.title_id = t.movement, t.title_id[:20]
    line.face_value, line.charges, line.discount = t.face_value, t.charges, t.discount
    line.paid, line.paid_on, line.credited_on = t.paid, t.paid_on, t.credited_on
    our = our_number_of(acc, t.title_id)
    boleto = (
        None
        if our is None
        else session.scalars(select(Boleto).where(Boleto.our_number == our)).first()
    )
    if not t.is_payment:
        line.status = "not_payment"
        line.note = f"{t.movement} {t.movement_label}" + (
            f" (motivo {t.reason})" if t.reason else ""
        )
    if boleto is None:
        if t.is_payment:
            line.status, line.note = "unknown", "Nenhum boleto com este nosso número."
        return
    inv = session.scalars(
        select(Invoice).where(Invoice.id == boleto.invoice_id).with_for_update()
    ).one()  # locked: two readings of the same payment record it once
    company = session.get(Company, inv.company_id)
    assert company is not None
    line.boleto_id, line.company_id = boleto.id, inv.company_id
    if not t.is_payment:
        return
    if inv.company_id not in scope:
        line.status, line.note = "outside", "Boleto de empresa fora da sua carteira: não aplicado."
        return
    assert t.paid_on is not None
    line.owed = _owed(inv, company, t.paid_on)
    recorded = session.scalars(select(Payment).where(Payment.boleto_id == boleto.id)).first()
    if recorded is not None:
        line.status = "already_paid"
        line.note = f"Pagamento deste boleto já registrado em {format_date(recorded.paid_on)}."
        return
    if inv.status == "paid":
        line.status = "already_paid"
        line.note = f"A fatura já estava paga ({format_date(inv.paid_on)}): verificar devolução."
        return
    if inv.status == "cancelled":
        line.status, line.note = "divergent", "Fatura cancelada: verificar devolução."
        return
    if t.paid < line.owed:
        line.status = "divergent"
        line.note = (
            f"Pago {format_money(t.paid)}, devido {format_money(line.owed)} em "
            f"{format_date(t.paid_on)}: faltam {format_money(line.owed - t.paid)}."
        )
        return
    payment = payment_record(
        session,
        invoice=inv,
        boleto=boleto,
        paid_on=t.paid_on,
        amount=t.paid,
        user_id=actor.user_id or None,
        now=now,
        source=f"retorno CNAB 240 (linha {t.line_number})",
        charges=t.charges,
    )
    line.payment_id, line.status = payment.id, "paid"
    extra = t.paid - line.owed
    line.note = f"Pago a maior: {format_money(extra)}." if extra > 0 else ""


def _view(
    line: BankReturnLine, companies: dict[int, Company], months: dict[int, date], mine: set[int]
) -> RetornoLine:
    """A line as the reader sees it: nothing of a company outside its portfolio."""
    company = companies.get(line.company_id) if line.company_id else None
    outside = line.status == "outside" or line.company_id not in mine
    return RetornoLine(
        line_number=line.line_number,
        title_id=line.title_id,
        movement=line.movement,
        status=line.status,
        company_code="" if company is None or outside else company.code,
        company_name="" if company is None or outside else company.name,
        billing_month=None if outside or line.boleto_id is None else months.get(line.boleto_id),
        paid=line.paid,
        charges=line.charges,
        owed=line.owed,
        paid_on=line.paid_on,
        credited_on=line.credited_on,
        note=line.note,
    )


def retorno_apply(
    *,
    uow: UnitOfWork,
    actor: Actor,
    file_name: str,
    content: bytes,
    now: datetime,
    company_ids: Sequence[int] | None = None,
) -> RetornoResult:
    """Read a CNAB 240 retorno: each payment matched and applied (see the module's
    docstring); the same file read again changes nothing."""
    ids = set(_scope(actor, company_ids))
    if len(content) > MAX_RETURN_BYTES:
        raise DomainError("O arquivo de retorno tem mais de 5 MB: confira se é o arquivo certo.")
    parsed = parse_return(content)
    digest = hashlib.sha256(content).hexdigest()
    with uow, across_companies(uow.session):
        session = uow.session
        acc = _account(_operator(session))
        if parsed.bank_code != acc.bank_code:
            raise DomainError(
                f"O arquivo é do banco {parsed.bank_code}; o convênio do operador é do banco "
                f"{acc.bank_code}."
            )
        if parsed.company_document and parsed.company_document != acc.cnpj.lstrip("0"):
            raise DomainError("O arquivo de retorno é de outra empresa (CNPJ do header).")
        stored = session.scalars(
            select(BankReturnFile).where(BankReturnFile.content_hash == digest)
        ).one_or_none()
        already = stored.read_at if stored else None
        if stored is None:
            stored = BankReturnFile(
                content_hash=digest,
                file_name=(file_name or "retorno")[:200],
                read_at=now,
                user_id=actor.user_id or None,
                bank_code=parsed.bank_code,
                nsa=parsed.nsa,
                content=content,
            )
            session.add(stored)
            try:
                session.flush()
            except IntegrityError as exc:  # the same file, read by someone at this moment
                raise DomainError(
                    "Este arquivo está sendo lido agora por outra pessoa. Aguarde e envie-o "
                    "de novo para ver o resultado."
                ) from exc
        existing = {
            line.line_number: line
            for line in session.scalars(
                select(BankReturnLine).where(BankReturnLine.return_file_id == stored.id)
            )
        }
        changed: list[BankReturnLine] = []
        for t in parsed.titles:
            line = existing.get(t.line_number)
            if line is not None and not (line.status == "outside" and line.company_id in ids):
                continue  # read before: unchanged
            if line is None:  # added once evaluated (a query's autoflush would find it empty)
                line = BankReturnLine(return_file_id=stored.id, line_number=t.line_number, note="")
                existing[t.line_number] = line
            line.owed = None
            _evaluate(session, acc, t, ids, line, actor, now)
            session.add(line)
            changed.append(line)
        session.flush()
        applied = sum(1 for line in changed if line.status == "paid")
        _audit_read(session, stored, changed, ids, actor, now)
        lines = sorted(existing.values(), key=lambda line: line.line_number)
        company_rows = {
            c.id: c
            for c in session.scalars(
                select(Company).where(Company.id.in_({x.company_id for x in lines if x.company_id}))
            )
        }
        months: dict[int, date] = {
            boleto_id: month
            for boleto_id, month in session.execute(
                select(Boleto.id, Invoice.billing_month)
                .join(Invoice, Invoice.id == Boleto.invoice_id)
                .where(Boleto.id.in_({x.boleto_id for x in lines if x.boleto_id}))
            )
        }
        result = RetornoResult(
            stored.file_name,
            stored.nsa,
            already,
            [_view(x, company_rows, months, set(actor.company_ids)) for x in lines],
            applied,
        )
        if changed:
            uow.commit()
        return result


def _audit_read(
    session: Session,
    stored: BankReturnFile,
    changed: list[BankReturnLine],
    ids: set[int],
    actor: Actor,
    now: datetime,
) -> None:
    """One audit record per company of the portfolio the reading touched (or one
    without a company when it touched none)."""
    if not changed:
        return
    by_company: dict[int | None, Tally[str]] = {}
    for line in changed:
        key = line.company_id if line.company_id in ids else None
        by_company.setdefault(key, Tally())[line.status] += 1
    for company_id, tally in sorted(by_company.items(), key=lambda kv: kv[0] or 0):
        if company_id is None and len(by_company) > 1:
            continue  # lines of no company of the portfolio: in the others' records
        audit_record(
            session,
            user_id=actor.user_id or None,
            company_id=company_id,
            action="retorno_apply",
            entity="bank_return_file",
            entity_id=stored.id,
            before=None,
            after={"file_name": stored.file_name, "nsa": stored.nsa, "lines": dict(tally)},
            now=now,
        )


@dataclass(frozen=True)
class RetornoSummary:
    """A retorno read before: its lines of the reader's portfolio by status, and its
    unknown lines (which belong to no company)."""

    file_id: int
    file_name: str
    read_at: datetime
    nsa: int
    statuses: dict[str, int]

    def count(self, status: str) -> int:
        return self.statuses.get(status, 0)


def retorno_list(
    *, uow: UnitOfWork, actor: Actor, company_ids: Sequence[int] | None = None
) -> list[RetornoSummary]:
    """Retornos read with lines of the companies given (the portfolio), or read by the
    actor, newest first, with their lines counted by status (nothing of other companies)."""
    ids = set(_scope(actor, company_ids))
    with uow, across_companies(uow.session):
        session = uow.session
        tallies: dict[int, Tally[str]] = {}
        for file_id, company_id, status in session.execute(
            select(BankReturnLine.return_file_id, BankReturnLine.company_id, BankReturnLine.status)
        ):
            if company_id in ids:
                tallies.setdefault(file_id, Tally())[status] += 1
        own = set(
            session.scalars(
                select(BankReturnFile.id).where(BankReturnFile.user_id == actor.user_id)
            )
        )
        unknown: Tally[int] = Tally(
            file_id
            for (file_id,) in session.execute(
                select(BankReturnLine.return_file_id).where(BankReturnLine.status == "unknown")
            )
        )
        visible = {f for f, t in tallies.items() if t} | own
        if not visible:
            return []
        return [
            RetornoSummary(
                f.id,
                f.file_name,
                f.read_at,
                f.nsa,
                {**tallies.get(f.id, Tally()), "unknown": unknown[f.id]},
            )
            for f in session.scalars(
                select(BankReturnFile)
                .where(BankReturnFile.id.in_(visible))
                .order_by(BankReturnFile.read_at.desc(), BankReturnFile.id.desc())
            )
        ]
