"""Configurações do operador on both databases: the account manager sees and changes the
bank agreement, each wrong field says what to type, every change is audited, and the next
boleto is issued under the new agreement."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from data.models import AuditRecord, Boleto, Invoice, Operator
from services.billing import payments
from services.operator_settings import (
    operator_settings_get,
    operator_settings_update,
)
from services.rules.errors import DomainError, FieldErrors
from tests.bank_support import TEST_BANK
from tests.services.test_billing import World, build_world

NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(engine) -> World:  # noqa: ANN001
    return build_world(engine)  # the operator has no bank agreement yet


def update(w: World, **values: str):  # noqa: ANN201
    return operator_settings_update(
        uow=w.company_uow(), actor=w.manager, now=NOW, **{**TEST_BANK, **values}
    )


def stored(w: World) -> dict[str, str]:
    with w.uow as uow:
        op = uow.session.scalars(select(Operator)).one()
        return {f: getattr(op, f) for f in TEST_BANK}


def audits(w: World) -> list[AuditRecord]:
    with w.uow as uow:
        rows = uow.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        uow.session.expunge_all()
        return list(rows)


def test_a_new_operator_has_no_agreement_and_the_page_says_what_is_missing(world: World):
    current = operator_settings_get(uow=world.company_uow(), actor=world.manager)
    assert current.operator_name == "Sorriso Odontologia S.A."
    assert (current.bank_code, current.bank_agreement) == ("001", "")
    assert not current.configured
    assert current.missing == ["convênio", "carteira", "agência", "conta"]


def test_the_account_manager_saves_the_agreement_and_it_is_audited(world: World):
    saved = update(world, bank_branch=" 1234 - 3 ", bank_account="56.789-2")
    assert saved.changed == ["bank_agreement", "bank_wallet", "bank_branch", "bank_account"]
    assert saved.settings.configured
    assert stored(world) == TEST_BANK
    [record] = audits(world)
    assert (record.action, record.entity, record.user_id, record.company_id) == (
        "operator_settings_update",
        "operator",
        world.manager.user_id,
        None,
    )
    assert record.before == {
        "bank_agreement": "",
        "bank_wallet": "",
        "bank_branch": "",
        "bank_account": "",
    }
    assert record.after == {
        "bank_agreement": "1234567",
        "bank_wallet": "17",
        "bank_branch": "1234-3",
        "bank_account": "56789-2",
    }
    got = operator_settings_get(uow=world.company_uow(), actor=world.manager)
    assert got.values() == TEST_BANK


def test_saving_the_same_values_changes_and_audits_nothing(world: World):
    update(world)
    again = update(world, bank_account="56789-2 ")
    assert again.changed == []
    assert len(audits(world)) == 1
    changed = update(world, bank_wallet="18")
    assert changed.changed == ["bank_wallet"]
    last = audits(world)[-1]
    assert (last.before, last.after) == ({"bank_wallet": "17"}, {"bank_wallet": "18"})


def test_wrong_fields_are_all_refused_and_nothing_is_saved(world: World):
    with pytest.raises(FieldErrors) as refused:
        update(world, bank_agreement="123456", bank_branch="12", bank_account="abc")
    assert set(refused.value.errors) == {"bank_agreement", "bank_branch", "bank_account"}
    assert "7 dígitos" in refused.value.errors["bank_agreement"]
    assert stored(world)["bank_agreement"] == ""
    assert audits(world) == []


@pytest.mark.parametrize("who", ["master"])
def test_only_the_account_manager_sees_or_changes_the_settings(world: World, who: str):
    actor = getattr(world, who)
    with pytest.raises(DomainError, match="gestor de contas"):
        operator_settings_get(uow=world.company_uow(), actor=actor)
    with pytest.raises(DomainError, match="gestor de contas"):
        operator_settings_update(uow=world.company_uow(), actor=actor, now=NOW, **TEST_BANK)
    assert stored(world)["bank_agreement"] == ""
    assert audits(world) == []


def test_boletos_wait_for_the_agreement_and_then_carry_it(world: World):
    with world.uow as uow:
        inv = Invoice(
            company_id=world.company_id,
            billing_month=date(2025, 3, 1),
            due_date=date(2025, 3, 10),
            amount=Decimal("250.00"),
            status="open",
            issued_at=NOW,
        )
        uow.session.add(inv)
        uow.commit()
        invoice_id = inv.id

    def issue():  # noqa: ANN202
        return payments.boleto_issue(
            uow=world.company_uow(), actor=world.master, invoice_id=invoice_id, now=NOW
        )

    with pytest.raises(DomainError, match="Tente novamente mais tarde"):
        issue()
    update(world, bank_agreement="7654321", bank_wallet="18")
    view = issue()
    assert view.barcode[19:] == "000000" + "7654321" + view.our_number + "18"
    assert (view.beneficiary_code, view.bank_wallet) == ("1234-3 / 56789-2", "18")
    with world.uow as uow:
        assert uow.session.scalar(select(func.count()).select_from(Boleto)) == 1
