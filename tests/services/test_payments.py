"""Boletos, overdue updates and payment status on both databases.

Every issued boleto is checked with the project's validators and with an independent
re-implementation of FEBRABAN's check digits written here (python-stdnum 2.2, the
usual oracle, has no boleto validator: `stdnum.br` knows only CPF and CNPJ).
"""

from __future__ import annotations

import importlib.util
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from config import get_settings
from data.models import AuditRecord, Boleto, Counter, Invoice, OutboxEmail, Payment, Protocol
from services.billing import payments
from services.mail import outbox as mail
from services.rules.boleto import (
    barcode_from_typed_line,
    due_date_factor,
    is_valid_barcode,
    is_valid_typed_line,
)
from services.rules.errors import DomainError
from services.rules.pix import boleto_txid, is_valid_pix_payload, parse_tlv, pix_payload
from tests.bank_support import TEST_BANK, set_bank
from tests.services.test_billing import World, build_world

D = Decimal
PDF = b"%PDF-1.3 test"


@pytest.fixture
def world(engine) -> World:  # noqa: ANN001
    w = build_world(engine)
    with w.uow as uow:  # boletos are issued only under the operator's bank agreement
        set_bank(uow.session)
        uow.commit()
    return w


def add_invoice(
    w: World, month: date, due: date, amount: str, status: str = "open", company_id: int = 0
) -> int:
    with w.uow as uow:
        inv = Invoice(
            company_id=company_id or w.company_id,
            billing_month=month,
            due_date=due,
            amount=D(amount),
            status=status,
            issued_at=datetime(2025, 1, 1, tzinfo=UTC),
            paid_on=due if status == "paid" else None,
        )
        uow.session.add(inv)
        uow.session.flush()
        if status == "paid":
            uow.session.add(
                Payment(invoice_id=inv.id, paid_on=due, amount=inv.amount, method="boleto")
            )
        uow.commit()
        return inv.id


def at_brasilia(d: date, hour: int = 12) -> datetime:
    return datetime(d.year, d.month, d.day, hour + 3, 0, tzinfo=UTC)


def issue(w: World, invoice_id: int, now: datetime | None = None) -> payments.BoletoView:
    return payments.boleto_issue(
        uow=w.company_uow(),
        actor=w.master,
        invoice_id=invoice_id,
        now=now or at_brasilia(date(2025, 3, 1)),
    )


def count(w: World, model) -> int:  # noqa: ANN001
    with w.uow as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------- an independent FEBRABAN oracle


def _oracle_mod10(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = int(char) * (2 - position % 2)
        total += n if n < 10 else n - 9
    return (10 - total % 10) % 10


def _oracle_typed_line_is_valid(line: str) -> bool:
    if len(line) != 47 or not line.isdigit():
        return False
    for body, dv in ((line[0:9], line[9]), (line[10:20], line[20]), (line[21:31], line[31])):
        if _oracle_mod10(body) != int(dv):
            return False
    code = line[0:4] + line[32] + line[33:47] + line[4:9] + line[10:20] + line[21:31]
    weights = [2, 3, 4, 5, 6, 7, 8, 9]
    rest = code[:4] + code[5:]
    total = sum(int(c) * weights[i % 8] for i, c in enumerate(reversed(rest)))
    dv = 11 - total % 11
    return code[4] == str(1 if dv in (0, 10, 11) else dv)


def assert_valid(view: payments.BoletoView) -> None:
    assert is_valid_barcode(view.barcode)
    assert is_valid_typed_line(view.typed_line)
    assert is_valid_typed_line(view.typed_line_formatted)
    assert _oracle_typed_line_is_valid(view.typed_line)
    assert barcode_from_typed_line(view.typed_line) == view.barcode
    assert int(view.barcode[9:19]) == int(view.amount * 100)
    assert int(view.barcode[5:9]) == due_date_factor(view.due_date)
    assert is_valid_pix_payload(view.pix_payload)
    assert parse_tlv(view.pix_payload)["54"] == f"{view.amount:.2f}"
    if importlib.util.find_spec("stdnum.br.boleto") is not None:  # pragma: no cover
        from stdnum.br import boleto as stdnum_boleto  # type: ignore[attr-defined]

        assert stdnum_boleto.is_valid(view.typed_line)


# ---------------------------------------------------------------- duplicate boleto


def test_a_duplicate_boleto_is_issued_once_validated_and_then_reused(world: World):
    invoice_id = add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "1234.56")
    first = issue(world, invoice_id)
    assert_valid(first)
    assert (first.due_date, first.amount, first.fine, first.interest) == (
        date(2025, 3, 10),
        D("1234.56"),
        D("0.00"),
        D("0.00"),
    )
    assert first.our_number == "0000000001"
    assert first.typed_line.startswith("0019")  # bank 001, currency 9
    assert first.payer_email == "rh@20001.com.br"
    again = issue(world, invoice_id)
    assert again == first
    assert count(world, Boleto) == 1
    with world.uow as uow:
        actions = uow.session.scalars(select(AuditRecord.action)).all()
    assert actions == ["boleto_issue"]


def test_a_due_date_after_the_2025_02_22_factor_restart_gets_the_new_factor(world: World):
    invoice_id = add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "100.00")
    view = issue(world, invoice_id)
    assert_valid(view)
    assert view.barcode[5:9] == "1016"  # 1000 on 2025-02-22, + 16 days
    assert view.typed_line[33:37] == "1016"
    before = add_invoice(world, date(2025, 2, 1), date(2025, 2, 21), "100.00")
    assert issue(world, before).barcode[5:9] == "9999"


def test_every_issued_boleto_validates_whatever_the_amount_and_date(world: World):
    due = date(2025, 2, 18)
    for n in range(24):
        month = date(2023 + n // 12, n % 12 + 1, 1)
        amount = f"{(n * 7919) % 100000 + 1}.{(n * 37) % 100:02d}"
        view = issue(world, add_invoice(world, month, due + timedelta(days=3 * n), amount))
        assert_valid(view)
        assert view.amount == D(amount)
    ours = [b for b in range(1, 25)]
    with world.uow as uow:
        numbers = sorted(int(n) for n in uow.session.scalars(select(Boleto.our_number)))
    assert numbers == ours


def test_a_pix_code_whose_crc_starts_with_zero_keeps_four_digits(world: World):
    invoice_id = add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "1.00")
    txid = boleto_txid("0000000001")
    amount = next(
        D(cents) / 100
        for cents in range(10_000, 20_000)
        if pix_payload(
            "11222333000181", "Sorriso Odontologia S.A.", "São Paulo", D(cents) / 100, txid
        )[-4]
        == "0"
    )
    with world.uow as uow:
        uow.session.get(Invoice, invoice_id).amount = amount
        uow.commit()
    view = issue(world, invoice_id)
    crc = parse_tlv(view.pix_payload)["63"]
    assert crc.startswith("0") and len(crc) == 4
    assert view.pix_payload.endswith(crc)
    assert_valid(view)


@pytest.mark.parametrize(
    ("status", "message"),
    [("paid", "já está paga"), ("cancelled", "cancelada")],
)
def test_no_boleto_for_a_paid_or_cancelled_invoice(world: World, status: str, message: str):
    invoice_id = add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "10.00", status)
    with pytest.raises(DomainError, match=message):
        issue(world, invoice_id)
    assert count(world, Boleto) == 0


def test_no_boleto_for_another_companys_invoice(world: World):
    other = add_invoice(
        world, date(2025, 3, 1), date(2025, 3, 10), "10.00", company_id=world.other_company_id
    )
    with pytest.raises(DomainError, match="não encontrada"):
        issue(world, other)


# ------------------------------------------------- bank agreement and PIX txid


def test_the_free_field_and_the_printed_code_come_from_the_bank_agreement(world: World):
    first = issue(world, add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "10.00"))
    assert_valid(first)
    # Banco do Brasil, 7-digit agreement: "000000" + agreement + our number (10) + wallet.
    assert first.barcode[19:] == "000000" + "1234567" + first.our_number + "17"
    assert "421839" not in first.barcode[19:]  # never the ANS registration
    assert (first.bank_code, first.agreement, first.bank_wallet) == ("001", "1234567", "17")
    assert first.beneficiary_code == "1234-3 / 56789-2"
    with world.uow as uow:
        set_bank(uow.session, bank_code="237", bank_agreement="4321", bank_wallet="9")
        uow.commit()
    second = issue(world, add_invoice(world, date(2025, 4, 1), date(2025, 4, 10), "10.00"))
    assert_valid(second)
    assert second.barcode[:3] == "237" and second.typed_line.startswith("2379")
    assert second.barcode[19:] == "00004321" + second.our_number.zfill(17)
    # The earlier boleto keeps the bank it was issued with.
    assert issue(world, first.invoice_id).bank_code == "001"


def test_the_printed_boleto_shows_branch_account_and_wallet_from_the_settings(world: World):
    from pypdf import PdfReader

    from components.boleto_pdf import boleto_pdf

    with world.uow as uow:
        set_bank(uow.session, bank_wallet="18", bank_branch="4321-0", bank_account="998877-X")
        uow.commit()
    view = issue(world, add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "10.00"))
    text = PdfReader(io.BytesIO(boleto_pdf(view))).pages[0].extract_text()
    assert text.count("4321-0 / 998877-X") == 2  # receipt and payment slip
    assert "Carteira\n18" in text or "Carteira 18" in text
    assert "421839" not in text  # the ANS registration is not the beneficiary code


def _big_invoice_ids(world: World) -> list[int]:
    """Invoice ids far past anything the old "FAT<invoice>N<our number>"[:25] survived:
    13 digits on SQLite (they cut the our number away); PostgreSQL's integer stops at
    10 digits."""
    with world.uow as uow:
        sqlite = uow.session.get_bind().dialect.name == "sqlite"
    base = 10**12 if sqlite else 2_147_483_000
    return [base + 1, base + 2]


def test_every_boleto_has_its_own_txid_whatever_the_invoice_id(world: World):
    views = []
    for n, invoice_id in enumerate(_big_invoice_ids(world)):
        month = date(2025, 3 + n, 1)
        with world.uow as uow:
            uow.session.add(
                Invoice(
                    id=invoice_id,
                    company_id=world.company_id,
                    billing_month=month,
                    due_date=month.replace(day=10),
                    amount=D("99.90"),
                    status="open",
                    issued_at=datetime(2025, 1, 1, tzinfo=UTC),
                )
            )
            uow.commit()
        views.append(issue(world, invoice_id))
    views.append(reissue(world, views[0].invoice_id, date(2025, 3, 20), date(2025, 3, 17)).boleto)
    with world.uow as uow:
        stored = {i: t for i, t in uow.session.execute(select(Boleto.id, Boleto.txid))}
    txids = [parse_tlv(parse_tlv(v.pix_payload)["62"])["05"] for v in views]
    assert txids == [f"BOL{v.our_number}" for v in views]
    assert txids == [stored[v.boleto_id] for v in views]
    assert len(set(txids)) == 3
    assert all(len(t) <= 25 and t.isalnum() and t.isascii() for t in txids)
    for v in views:
        assert_valid(v)


def test_the_txid_is_unique_in_the_database(world: World):
    view = issue(world, add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "10.00"))
    with world.uow as uow:
        copy = uow.session.get(Boleto, view.boleto_id)
        uow.session.add(
            Boleto(
                invoice_id=copy.invoice_id,
                due_date=copy.due_date,
                amount=copy.amount,
                our_number="9999999999",
                barcode=copy.barcode,
                typed_line=copy.typed_line,
                pix_payload=copy.pix_payload,
                txid=copy.txid,
                status="replaced",
                issued_at=copy.issued_at,
            )
        )
        with pytest.raises(IntegrityError):
            uow.session.flush()


def _clear_bank(world: World, **values: str) -> None:
    with world.uow as uow:
        set_bank(uow.session, **{"bank_agreement": "", **values})
        uow.commit()


def _no_boleto_written(world: World) -> None:
    assert count(world, Boleto) == 0
    assert count(world, AuditRecord) == 0
    assert count(world, Protocol) == 0
    with world.uow as uow:
        taken = uow.session.scalar(
            select(Counter.value).where(Counter.name == payments.OUR_NUMBER_COUNTER)
        )
    assert not taken  # no our number used up


def test_without_a_bank_agreement_no_boleto_is_issued_and_nothing_is_written(world: World):
    _clear_bank(world, bank_wallet="")
    invoice_id = add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "10.00")
    with pytest.raises(DomainError) as manager:
        payments.boleto_issue(
            uow=world.company_uow(),
            actor=world.manager,
            invoice_id=invoice_id,
            now=at_brasilia(date(2025, 3, 1)),
        )
    assert manager.value.message.startswith(
        "Convênio bancário não configurado: falta convênio, carteira."
    )
    assert "Configurações do operador" in manager.value.message
    with pytest.raises(DomainError) as user:
        issue(world, invoice_id)
    assert "Convênio" not in user.value.message
    assert "Tente novamente mais tarde" in user.value.message
    _no_boleto_written(world)


def test_without_a_bank_agreement_an_overdue_invoice_is_not_updated(world: World):
    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "1000.00")
    _clear_bank(world)
    with pytest.raises(DomainError, match="Tente novamente mais tarde"):
        reissue(world, invoice_id, date(2026, 4, 9), date(2026, 3, 20))
    _no_boleto_written(world)


def test_an_agreement_the_bank_would_not_accept_counts_as_not_configured(world: World):
    _clear_bank(world, bank_agreement="123456")  # Banco do Brasil issues 7 digits
    invoice_id = add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "10.00")
    with pytest.raises(DomainError, match="Convênio bancário não configurado: .*7 dígitos"):
        payments.boleto_issue(
            uow=world.company_uow(),
            actor=world.manager,
            invoice_id=invoice_id,
            now=at_brasilia(date(2025, 3, 1)),
        )
    _no_boleto_written(world)
    assert TEST_BANK["bank_agreement"] == "1234567"


def test_the_boleto_goes_by_email_with_the_pdf_attached(world: World):
    invoice_id = add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "10.00")
    view = issue(world, invoice_id)
    sent = payments.boleto_send_email(
        uow=world.company_uow(),
        actor=world.master,
        invoice_id=invoice_id,
        to=" financeiro@20001.com.br ",
        pdf=PDF,
        now=at_brasilia(date(2025, 3, 2)),
    )
    assert (sent.to_address, sent.status, sent.delivered) == (
        "financeiro@20001.com.br",
        "outbox",
        True,
    )
    with world.uow as uow:
        mail = uow.session.scalars(select(OutboxEmail)).one()
        assert (mail.to_address, mail.attachment_name) == (sent.to_address, view.file_name)
        assert view.typed_line_formatted in mail.body and view.pix_payload in mail.body
        assert "03/2025" in mail.subject


def test_through_smtp_the_pdf_goes_as_an_attachment(world: World, monkeypatch: pytest.MonkeyPatch):
    sent: list[EmailMessage] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            self.host = host

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def starttls(self) -> None:
            return None

        def send_message(self, message: EmailMessage) -> None:
            sent.append(message)

    monkeypatch.setenv("PORTAL_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("PORTAL_SMTP_USER", "")
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    get_settings.cache_clear()
    try:
        invoice_id = add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "10.00")
        view = issue(world, invoice_id)
        delivery = payments.boleto_send_email(
            uow=world.company_uow(),
            actor=world.master,
            invoice_id=invoice_id,
            to="rh@20001.com.br",
            pdf=PDF,
            now=at_brasilia(date(2025, 3, 2)),
        )
    finally:
        get_settings.cache_clear()
    assert (delivery.status, delivery.delivered) == ("sent", True)
    [message] = sent
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == view.file_name
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    with world.uow as uow:
        assert uow.session.scalars(select(OutboxEmail.status)).one() == "sent"


def test_an_invalid_email_address_is_refused_and_nothing_is_sent(world: World):
    invoice_id = add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "10.00")
    issue(world, invoice_id)
    with pytest.raises(DomainError, match="e-mail válido") as refused:
        payments.boleto_send_email(
            uow=world.company_uow(),
            actor=world.master,
            invoice_id=invoice_id,
            to="rh@",
            pdf=PDF,
            now=at_brasilia(date(2025, 3, 2)),
        )
    assert refused.value.field == "email"
    assert count(world, OutboxEmail) == 0


# ---------------------------------------------------------------- overdue update


def reissue(w: World, invoice_id: int, pay: date, today: date) -> payments.ReissueResult:
    return payments.overdue_reissue(
        uow=w.company_uow(),
        actor=w.master,
        invoice_id=invoice_id,
        pay_date=pay,
        now=at_brasilia(today),
    )


def test_the_spec_example_one_thousand_reais_thirty_days_late(world: World):
    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "1000.00")
    original = issue(world, invoice_id, at_brasilia(date(2026, 3, 1)))
    today = date(2026, 3, 20)
    [listed] = payments.overdue_invoice_list(
        uow=world.company_uow(), actor=world.master, today=today
    )
    assert listed.invoice.id == invoice_id and date(2026, 4, 9) in listed.payment_dates
    assert listed.limit_date == date(2026, 5, 8)
    assert (listed.active_boleto_due, listed.active_boleto_amount) == (
        date(2026, 3, 10),
        D("1000.00"),
    )
    quote = payments.overdue_quote(
        uow=world.company_uow(),
        actor=world.master,
        invoice_id=invoice_id,
        pay_date=date(2026, 4, 9),
        today=today,
    )
    assert (quote.fine, quote.interest, quote.total, quote.days_late) == (
        D("20.00"),
        D("10.00"),
        D("1030.00"),
        30,
    )
    result = reissue(world, invoice_id, date(2026, 4, 9), today)
    assert result.quote == quote
    assert_valid(result.boleto)
    assert (result.boleto.amount, result.boleto.due_date) == (D("1030.00"), date(2026, 4, 9))
    assert (result.boleto.fine, result.boleto.interest) == (D("20.00"), D("10.00"))
    assert result.boleto.document_amount == D("1000.00")
    assert result.replaced_boleto_id == original.boleto_id
    with world.uow as uow:
        old = uow.session.get(Boleto, original.boleto_id)
        assert (old.status, old.replaced_by_id) == ("replaced", result.boleto.boleto_id)
        [active] = uow.session.scalars(select(Boleto).where(Boleto.status == "active")).all()
        assert active.id == result.boleto.boleto_id
        protocol = uow.session.scalars(select(Protocol)).one()
        assert (protocol.number, protocol.kind, protocol.status) == (
            result.protocol_number,
            "overdue_update",
            "closed",
        )
        audit = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "overdue_update")
        ).one()
        assert audit.after["total"] == "1030.00" and audit.before["boleto_id"] == old.id
        assert uow.session.get(Invoice, invoice_id).amount == D("1000.00")
    # The duplicate now gives the updated boleto.
    assert issue(world, invoice_id, at_brasilia(today)).boleto_id == result.boleto.boleto_id


def test_a_saturday_due_date_paid_on_monday_adds_nothing_and_on_tuesday_adds_it_all(
    world: World,
):
    saturday = date(2025, 11, 8)
    assert saturday.weekday() == 5
    invoice_id = add_invoice(world, date(2025, 11, 1), saturday, "1000.00")
    monday, tuesday = date(2025, 11, 10), date(2025, 11, 11)
    on_monday = reissue(world, invoice_id, monday, monday)
    assert (on_monday.quote.fine, on_monday.quote.interest, on_monday.quote.total) == (
        D("0.00"),
        D("0.00"),
        D("1000.00"),
    )
    assert on_monday.replaced_boleto_id is None
    on_tuesday = reissue(world, invoice_id, tuesday, monday)
    # Paid after the next business day: interest runs from the original Saturday (3 days).
    assert (on_tuesday.quote.fine, on_tuesday.quote.interest, on_tuesday.quote.total) == (
        D("20.00"),
        D("1.00"),
        D("1021.00"),
    )
    assert on_tuesday.quote.days_late == 3
    assert on_tuesday.replaced_boleto_id == on_monday.boleto.boleto_id
    assert_valid(on_monday.boleto)
    assert_valid(on_tuesday.boleto)
    with world.uow as uow:
        chain = uow.session.execute(
            select(Boleto.id, Boleto.status, Boleto.replaced_by_id).order_by(Boleto.id)
        ).all()
    assert [tuple(r) for r in chain] == [
        (on_monday.boleto.boleto_id, "replaced", on_tuesday.boleto.boleto_id),
        (on_tuesday.boleto.boleto_id, "active", None),
    ]


def _nothing_written(w: World, boletos: int, protocols: int) -> None:
    assert count(w, Boleto) == boletos
    assert count(w, Protocol) == protocols
    with w.uow as uow:
        assert (
            uow.session.scalar(
                select(func.count()).select_from(Counter).where(Counter.name.like("protocol:%"))
            )
            == 0
        )


def test_a_payment_date_outside_the_allowed_business_days_is_refused_and_writes_nothing(
    world: World,
):
    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "1000.00")
    issue(world, invoice_id, at_brasilia(date(2026, 3, 1)))
    today = date(2026, 3, 20)
    for bad in (date(2026, 3, 21), date(2026, 3, 19), date(2026, 5, 11)):
        with pytest.raises(
            DomainError, match="Escolha um dia útil entre 20/03/2026 e 08/05/2026"
        ) as refused:
            reissue(world, invoice_id, bad, today)
        assert refused.value.field == "pay_date"
    _nothing_written(world, boletos=1, protocols=0)
    with world.uow as uow:
        assert uow.session.scalars(select(Boleto.status)).all() == ["active"]


def test_an_invoice_past_the_contract_limit_can_no_longer_be_updated(world: World):
    invoice_id = add_invoice(world, date(2026, 1, 1), date(2026, 1, 10), "1000.00")
    today = date(2026, 3, 20)  # 69 days after the due date; the contract allows 59
    [listed] = payments.overdue_invoice_list(
        uow=world.company_uow(), actor=world.master, today=today
    )
    assert listed.payment_dates == []
    with pytest.raises(DomainError, match="prazo de atualização desta fatura terminou"):
        reissue(world, invoice_id, date(2026, 3, 20), today)
    _nothing_written(world, boletos=0, protocols=0)


def test_an_invoice_not_yet_due_or_already_paid_is_not_updated(world: World):
    open_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 30), "10.00")
    paid_id = add_invoice(world, date(2026, 2, 1), date(2026, 2, 10), "10.00", status="paid")
    with pytest.raises(DomainError, match="Só faturas vencidas"):
        reissue(world, open_id, date(2026, 3, 23), date(2026, 3, 20))
    with pytest.raises(DomainError, match="já está paga"):
        reissue(world, paid_id, date(2026, 3, 23), date(2026, 3, 20))
    _nothing_written(world, boletos=0, protocols=0)


# ---------------------------------------------------------------- payment status


def test_payment_status_lists_payments_and_open_and_overdue_invoices_with_totals(world: World):
    add_invoice(world, date(2025, 1, 1), date(2025, 1, 10), "100.10", status="paid")
    add_invoice(world, date(2025, 2, 1), date(2025, 2, 10), "200.20", status="paid")
    add_invoice(world, date(2025, 3, 1), date(2025, 3, 10), "300.30")
    add_invoice(world, date(2025, 4, 1), date(2025, 4, 10), "400.40")
    add_invoice(world, date(2024, 12, 1), date(2024, 12, 10), "999.99", status="cancelled")
    add_invoice(
        world, date(2025, 4, 1), date(2025, 4, 10), "7.00", company_id=world.other_company_id
    )
    status = payments.payment_status(
        uow=world.company_uow(), actor=world.master, today=date(2025, 4, 1)
    )
    assert [(p.billing_month, p.paid_on, p.amount, p.method_label) for p in status.paid] == [
        (date(2025, 2, 1), date(2025, 2, 10), D("200.20"), "Boleto"),
        (date(2025, 1, 1), date(2025, 1, 10), D("100.10"), "Boleto"),
    ]
    assert [r.amount for r in status.overdue] == [D("300.30")]
    assert [r.amount for r in status.open] == [D("400.40")]
    assert (status.paid_total, status.open_total, status.overdue_total) == (
        D("300.30"),
        D("400.40"),
        D("300.30"),
    )
    only_2024 = payments.payment_status(
        uow=world.company_uow(), actor=world.master, today=date(2025, 4, 1), year=2024
    )
    assert (only_2024.paid, only_2024.open, only_2024.overdue) == ([], [], [])
    assert only_2024.paid_total == D("0.00")
