"""Ledger kinds on the reads, on both databases: an invoice's totals by kind and what a
billing run issued by kind, over invoices whose lines are inserted directly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from data.models import Invoice
from services import billing
from services.actors import ALL_PERMISSIONS, Actor, Role
from services.rules.errors import DomainError
from tests.services.test_billing import AUG, JUL, World, build_world
from tests.services.test_billing_cli import _invoice

D = Decimal
MAY = date(2025, 5, 1)
TODAY = date(2025, 9, 2)


@pytest.fixture
def world(engine) -> World:  # noqa: ANN001
    w = build_world(engine)
    _invoice(
        w,
        w.company_id,
        AUG,
        "open",
        [
            ("alice", AUG, "monthly", D("105.10")),
            ("bob", AUG, "stay", D("130.00")),
            ("carla", MAY, "retroactive", D("115.10")),
            ("carla", JUL, "retroactive", D("125.10")),
            ("dan", JUL, "plan_change_difference", D("55.25")),
            ("eva", JUL, "credit", D("-95.10")),
        ],
    )
    _invoice(w, w.other_company_id, AUG, "open", [("hugo", AUG, "monthly", D("190.35"))])
    return w


def _invoice_id(w: World, company_id: int) -> int:
    with w.uow as uow:
        return uow.session.scalars(
            select(Invoice.id).where(Invoice.company_id == company_id, Invoice.billing_month == AUG)
        ).one()


def test_an_invoice_totals_each_kind_and_splits_mensalidades_from_adjustments(world: World):
    detail = billing.invoice_detail(
        uow=world.company_uow(),
        actor=world.master,
        invoice_id=_invoice_id(world, world.company_id),
        today=TODAY,
    )
    # Mensalidades: the month's own charges (monthly and art. 30/31); the rest adjusts.
    assert detail.monthly_total == D("235.10")
    assert detail.adjustments_total == D("200.35")  # 115.10 + 125.10 + 55.25 - 95.10
    assert list(detail.by_kind.columns) == billing.KIND_COLUMNS
    assert detail.by_kind.values.tolist() == [
        ["Mensalidade", 1, "08/2025", D("105.10")],
        ["Retroativo", 2, "05/2025 a 07/2025", D("240.20")],
        ["Diferença de plano", 1, "07/2025", D("55.25")],
        ["Crédito", 1, "07/2025", D("-95.10")],
        ["Art. 30/31", 1, "08/2025", D("130.00")],
    ]
    lines = detail.lines
    assert list(lines["Tipo"]) == [
        "Mensalidade",
        "Retroativo",
        "Retroativo",
        "Diferença de plano",
        "Crédito",
        "Art. 30/31",
    ]
    credit = lines[lines["Tipo"] == "Crédito"].iloc[0]
    assert (credit["Competência de referência"], credit["Valor"]) == (JUL, D("-95.10"))


def test_the_run_summary_counts_each_kind_per_invoice_and_lists_the_adjustments(world: World):
    ours, theirs = _invoice_id(world, world.company_id), _invoice_id(world, world.other_company_id)
    summary = billing.run_summary(
        uow=world.uow, actor=world.manager, billing_month=AUG, invoice_ids=[ours, theirs]
    )
    assert summary.kinds == {
        ours: {
            "monthly": 1,
            "stay": 1,
            "retroactive": 2,
            "plan_change_difference": 1,
            "credit": 1,
        },
        theirs: {"monthly": 1},
    }
    assert summary.adjustment_lines == 5
    table = summary.adjustments
    assert list(table.columns) == billing.ADJUSTMENT_COLUMNS
    assert [
        (r["Empresa"], r["Tipo"], r["Competência de referência"], r["Valor"])
        for _, r in table.iterrows()
    ] == [
        ("20001", "Retroativo", MAY, D("115.10")),
        ("20001", "Retroativo", JUL, D("125.10")),
        ("20001", "Diferença de plano", JUL, D("55.25")),
        ("20001", "Crédito", JUL, D("-95.10")),
        ("20001", "Art. 30/31", AUG, D("130.00")),
    ]


def test_the_run_summary_only_reads_the_actors_companies(world: World):
    outsider = Actor(
        world.manager.user_id,
        "900009",
        "Outro gestor",
        Role.ACCOUNT_MANAGER,
        frozenset(ALL_PERMISSIONS),
        frozenset({world.other_company_id}),
    )
    with pytest.raises(DomainError, match="não tem acesso"):
        billing.run_summary(
            uow=world.uow,
            actor=outsider,
            billing_month=AUG,
            invoice_ids=[_invoice_id(world, world.company_id)],
        )
    # An invoice of another month is simply not part of the summary.
    empty = billing.run_summary(
        uow=world.uow, actor=world.manager, billing_month=JUL, invoice_ids=[1, 2]
    )
    assert (empty.kinds, empty.adjustment_lines, len(empty.adjustments)) == ({}, 0, 0)


def test_every_stored_kind_has_a_portuguese_label():
    from data.models import INVOICE_LINE_KINDS
    from services.rules.billing import LINE_KIND_LABELS

    assert set(LINE_KIND_LABELS) == set(INVOICE_LINE_KINDS)
    assert (LINE_KIND_LABELS["credit"], LINE_KIND_LABELS["stay"]) == ("Crédito", "Art. 30/31")
