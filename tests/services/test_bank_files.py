"""Arquivos bancários on both databases: the remessa (boletos since the last one,
updated boletos included, numbered, audited) and the retorno (payments matched by the
nosso número; partial and unknown listed; the same file read twice changes nothing)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from data.models import (
    AuditRecord,
    BankRemittance,
    BankRemittanceItem,
    BankReturnLine,
    Boleto,
    Invoice,
    Payment,
)
from services.billing import bank_files, payments
from services.rules.cnab240 import bank_title_id, parse_return
from services.rules.errors import DomainError
from tests.bank_support import set_bank
from tests.cnab_support import ACCOUNT, Paid, retorno_file
from tests.services.test_billing import World, build_world
from tests.services.test_payments import add_invoice, at_brasilia, count, issue

D = Decimal
NOW = at_brasilia(date(2026, 3, 20))


@pytest.fixture
def world(engine) -> World:  # noqa: ANN001
    w = build_world(engine)
    with w.uow as uow:
        set_bank(uow.session)
        uow.commit()
    return w


def generate(w: World, day: date = date(2026, 3, 20)) -> bank_files.RemessaFile:
    return bank_files.remessa_generate(uow=w.uow, actor=w.manager, now=at_brasilia(day))


def read(w: World, content: bytes, name: str = "retorno.ret") -> bank_files.RetornoResult:
    return bank_files.retorno_apply(
        uow=w.uow, actor=w.manager, file_name=name, content=content, now=NOW
    )


def title_of(our_number: str) -> str:
    return bank_title_id(ACCOUNT, our_number)


def test_the_remessa_carries_the_new_boletos_then_only_those_issued_since(world: World):
    first = issue(world, add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "1000.00"))
    preview = bank_files.remessa_preview(uow=world.uow, actor=world.manager)
    assert [(r.our_number, r.movement) for r in preview] == [(first.our_number, "01")]
    r1 = generate(world)
    assert (r1.nsa, [r.our_number for r in r1.rows]) == (1, [first.our_number])
    lines = r1.content.decode("ascii").split("\r\n")[:-1]
    assert all(len(x) == 240 for x in lines)
    assert lines[2][37:57].strip() == title_of(first.our_number)
    assert lines[2][85:100] == "000000000100000"
    assert lines[3][33:73].strip() == "EMPRESA 20001 LTDA."
    assert bank_files.remessa_preview(uow=world.uow, actor=world.manager) == []
    with pytest.raises(DomainError, match="nada a enviar"):
        generate(world)
    second = issue(world, add_invoice(world, date(2026, 4, 1), date(2026, 4, 10), "300.00"))
    r2 = generate(world)
    assert (r2.nsa, [r.our_number for r in r2.rows]) == (2, [second.our_number])
    assert [s.nsa for s in bank_files.remessa_list(uow=world.uow, actor=world.manager)] == [2, 1]
    again = bank_files.remessa_file(
        uow=world.uow, actor=world.manager, remittance_id=r1.remittance_id
    )
    assert (again.content, again.file_name) == (r1.content, r1.file_name)
    with world.uow as uow:
        audits = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "remessa_generate")
        ).all()
        assert [(a.company_id, a.after["nsa"]) for a in audits] == [
            (world.company_id, 1),
            (world.company_id, 2),
        ]


def test_an_updated_boleto_goes_as_entry_of_the_new_and_write_off_of_the_old(world: World):
    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "1000.00")
    old = issue(world, invoice_id)
    generate(world)
    new = payments.overdue_reissue(
        uow=world.company_uow(),
        actor=world.master,
        invoice_id=invoice_id,
        pay_date=date(2026, 4, 9),
        now=at_brasilia(date(2026, 3, 25)),
    ).boleto
    r = generate(world, date(2026, 3, 25))
    assert sorted((x.our_number, x.movement) for x in r.rows) == [
        (old.our_number, "02"),
        (new.our_number, "01"),
    ]
    lines = r.content.decode("ascii").split("\r\n")
    p_new = next(x for x in lines if x[13] == "P" and x[15:17] == "01")
    # R$ 1.030,00 (fine 20,00 + 30 days' interest 10,00), then 0,33 a day on the 1.000,00
    assert p_new[85:100] == "000000000103000"
    assert p_new[117:141] == "1" + "10042026" + "000000000000033"
    assert not [x for x in lines if x[13:14] == "R"]  # the fine is in its amount already
    # an updated boleto never sent is written off by nobody: nothing pending
    assert bank_files.remessa_preview(uow=world.uow, actor=world.manager) == []


def test_a_payment_marks_the_invoice_paid_and_shows_in_the_payment_status(world: World):
    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "1000.00")
    b = issue(world, invoice_id)
    # Paid 30 days late: 2% fine + 1% a month interest = 1.030,00 (the domain example)
    paid = Paid(title_of(b.our_number), D("1000.00"), D("1030.00"), date(2026, 4, 9), D("30.00"))
    result = read(world, retorno_file(ACCOUNT, [paid]))
    [line] = result.lines
    assert (line.status, line.owed, line.paid, line.charges) == (
        "paid",
        D("1030.00"),
        D("1030.00"),
        D("30.00"),
    )
    assert line.status_label == "Pago: fatura quitada" and result.applied == 1
    with world.uow as uow:
        inv = uow.session.get(Invoice, invoice_id)
        assert inv is not None and (inv.status, inv.paid_on) == ("paid", date(2026, 4, 9))
        pay = uow.session.scalars(select(Payment).where(Payment.invoice_id == invoice_id)).one()
        assert (pay.amount, pay.method, pay.boleto_id) == (D("1030.00"), "boleto", b.boleto_id)
        assert uow.session.get(Boleto, b.boleto_id).status == "paid"  # type: ignore[union-attr]
        actions = uow.session.scalars(
            select(AuditRecord.action).where(AuditRecord.company_id == world.company_id)
        ).all()
        assert {"payment_record", "retorno_apply"} <= set(actions)
    status = payments.payment_status(
        uow=world.company_uow(), actor=world.master, today=date(2026, 4, 10)
    )
    [row] = [p for p in status.paid if p.invoice_id == invoice_id]
    assert (row.paid_on, row.amount, row.charges, row.method_label) == (
        date(2026, 4, 9),
        D("1030.00"),
        D("30.00"),
        "Boleto",
    )


def test_a_partial_payment_is_listed_and_the_invoice_stays_open(world: World):
    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "1000.00")
    b = issue(world, invoice_id)
    short = Paid(title_of(b.our_number), D("1000.00"), D("1000.00"), date(2026, 4, 9))
    [line] = read(world, retorno_file(ACCOUNT, [short])).lines
    assert (line.status, line.owed) == ("divergent", D("1030.00"))
    assert "faltam R$" in line.note and "30,00" in line.note
    with world.uow as uow:
        assert uow.session.get(Invoice, invoice_id).status == "open"  # type: ignore[union-attr]
    assert count(world, Payment) == 0


def test_an_unknown_boleto_is_listed_and_nothing_is_guessed(world: World):
    issue(world, add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "1000.00"))
    ghost = Paid(title_of("0000999999"), D("1000.00"), D("1000.00"), date(2026, 3, 10))
    result = read(world, retorno_file(ACCOUNT, [ghost]))
    assert [(x.status, x.company_code) for x in result.lines] == [("unknown", "")]
    assert count(world, Payment) == 0
    with world.uow as uow:
        audit = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "retorno_apply")
        ).one()
        assert audit.company_id is None and audit.after["lines"] == {"unknown": 1}
    [listed] = bank_files.retorno_list(uow=world.uow, actor=world.manager)  # read by them
    assert listed.count("unknown") == 1 and listed.count("paid") == 0


def test_the_same_file_read_twice_changes_nothing(world: World):
    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "500.00")
    b = issue(world, invoice_id)
    content = retorno_file(
        ACCOUNT, [Paid(title_of(b.our_number), D("500.00"), D("500.00"), date(2026, 3, 10))]
    )
    first = read(world, content)
    assert first.already_read is None and first.applied == 1
    with world.uow as uow:
        audits = uow.session.scalar(select(func.count()).select_from(AuditRecord))
        lines = uow.session.scalar(select(func.count()).select_from(BankReturnLine))
    second = read(world, content, "outro_nome.ret")
    assert second.already_read is not None and second.applied == 0
    assert [x.status for x in second.lines] == ["paid"]
    assert count(world, Payment) == 1
    assert count(world, AuditRecord) == audits and count(world, BankReturnLine) == lines
    # Another file with the same payment (the bank sent it again): not recorded twice.
    again = retorno_file(
        ACCOUNT, [Paid(title_of(b.our_number), D("500.00"), D("500.00"), date(2026, 3, 10))], nsa=2
    )
    [line] = read(world, again).lines
    assert line.status == "already_paid" and "já registrado" in line.note
    assert count(world, Payment) == 1


def test_paying_the_replaced_boleto_pays_the_invoice_and_cancels_the_new_one(world: World):
    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "1000.00")
    old = issue(world, invoice_id)
    new = payments.overdue_reissue(
        uow=world.company_uow(),
        actor=world.master,
        invoice_id=invoice_id,
        pay_date=date(2026, 4, 9),
        now=at_brasilia(date(2026, 3, 25)),
    ).boleto
    generate(world, date(2026, 3, 25))
    paid = Paid(title_of(old.our_number), D("1000.00"), D("1025.00"), date(2026, 3, 25), D("25"))
    [line] = read(world, retorno_file(ACCOUNT, [paid])).lines
    assert (line.status, line.owed) == ("paid", D("1025.00"))  # 20,00 + 15 days 5,00
    with world.uow as uow:
        assert uow.session.get(Boleto, new.boleto_id).status == "cancelled"  # type: ignore[union-attr]
    # the cancelled boleto had been registered: the next remessa writes it off
    rows = bank_files.remessa_preview(uow=world.uow, actor=world.manager)
    assert [(r.our_number, r.movement) for r in rows] == [(new.our_number, "02")]


def test_an_invoice_already_paid_and_other_occurrences_are_listed(world: World):
    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "100.00")
    b = issue(world, invoice_id)
    with world.uow as uow:
        inv = uow.session.get(Invoice, invoice_id)
        assert inv is not None
        inv.status, inv.paid_on = "paid", date(2026, 3, 9)
        uow.commit()
    titles = [
        Paid(title_of(b.our_number), D("100.00"), D("100.00"), date(2026, 3, 10)),
        Paid(title_of(b.our_number), D("100.00"), D("0.00"), date(2026, 3, 2), movement="02"),
    ]
    result = read(world, retorno_file(ACCOUNT, titles))
    assert [x.status for x in result.lines] == ["already_paid", "not_payment"]
    assert "02 Entrada confirmada" in result.lines[1].note
    assert count(world, Payment) == 0


def test_bad_files_and_other_banks_are_refused_in_portuguese(world: World):
    with pytest.raises(DomainError, match="linha 1: tem 3 caracteres"):
        read(world, b"abc\r\n")
    other = retorno_file(ACCOUNT.__class__(**{**ACCOUNT.__dict__, "bank_code": "341"}), [])
    with pytest.raises(DomainError, match="banco 341"):
        read(world, other)
    assert parse_return(other).titles == []
    assert count(world, BankReturnLine) == 0


def test_company_users_are_refused(world: World):
    for call in (
        lambda: bank_files.remessa_preview(uow=world.uow, actor=world.master),
        lambda: bank_files.remessa_generate(uow=world.uow, actor=world.master, now=NOW),
        lambda: bank_files.remessa_list(uow=world.uow, actor=world.master),
        lambda: bank_files.remessa_file(uow=world.uow, actor=world.master, remittance_id=1),
        lambda: bank_files.retorno_apply(
            uow=world.uow, actor=world.master, file_name="r", content=b"x", now=NOW
        ),
    ):
        with pytest.raises(DomainError, match="Só o gestor de contas"):
            call()
    assert count(world, BankRemittance) == 0 and count(world, BankRemittanceItem) == 0


def test_a_line_outside_the_readers_portfolio_waits_for_a_manager_who_has_it(world: World):
    from dataclasses import replace

    invoice_id = add_invoice(world, date(2026, 3, 1), date(2026, 3, 10), "200.00")
    b = issue(world, invoice_id)
    content = retorno_file(
        ACCOUNT,
        [
            Paid(title_of(b.our_number), D("200.00"), D("200.00"), date(2026, 3, 10)),
            Paid(title_of(b.our_number), D("200.00"), D("0"), date(2026, 3, 2), movement="02"),
        ],
    )
    narrow = replace(world.manager, company_ids=frozenset({world.other_company_id}))
    first = bank_files.retorno_apply(
        uow=world.uow, actor=narrow, file_name="r.ret", content=content, now=NOW
    )
    assert [(x.status, x.company_code, x.billing_month) for x in first.lines] == [
        ("outside", "", None),
        ("not_payment", "", None),  # nothing of a company outside the portfolio is shown
    ]
    assert count(world, Payment) == 0
    second = read(world, content)  # the manager of the whole portfolio
    assert second.already_read is not None and second.applied == 1
    assert [(x.status, x.company_code) for x in second.lines] == [
        ("paid", "20001"),
        ("not_payment", "20001"),
    ]
    third = read(world, content)
    assert third.applied == 0 and count(world, Payment) == 1
    [listed] = bank_files.retorno_list(uow=world.uow, actor=world.manager)
    assert (listed.file_name, listed.count("paid"), listed.count("not_payment")) == ("r.ret", 1, 1)
    # the narrow manager read it: listed, with nothing of the other company counted
    [seen] = bank_files.retorno_list(uow=world.uow, actor=narrow)
    assert seen.statuses == {"unknown": 0}
