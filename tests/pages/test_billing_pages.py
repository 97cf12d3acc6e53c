"""The ledger's kinds on the finance pages (AppTest over the seeded demo): an invoice with
a credit and a catch-up line, and a billing run that issues credits and catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from data.db import make_engine, make_session_factory
from data.models import Beneficiary, Company, CoveragePeriod, Invoice, InvoiceLine
from services.rules.billing import add_months
from tests.pages.conftest import by_label, log_in

D = Decimal


def _session(url: str) -> tuple[Session, object]:
    engine = make_engine(url)
    return make_session_factory(engine)(), engine


def _company_id(s: Session, code: str = "10001") -> int:
    company_id = s.scalar(select(Company.id).where(Company.code == code))
    assert company_id is not None
    return company_id


def _month(d: date) -> str:
    return f"{d:%m/%Y}"


def _add_adjustments(url: str) -> tuple[Invoice, str, str]:
    """A credit (-50,00, two months back) and a catch-up line (80,00, three months back)
    on company 10001's latest invoice; returns it and the two beneficiaries' names."""
    s, engine = _session(url)
    with s:
        company_id = _company_id(s)
        inv = s.scalars(
            select(Invoice)
            .where(Invoice.company_id == company_id)
            .order_by(Invoice.billing_month.desc())
        ).first()
        assert inv is not None
        first, second = s.execute(
            select(InvoiceLine.beneficiary_id, InvoiceLine.plan_id, Beneficiary.name)
            .join(Beneficiary, Beneficiary.id == InvoiceLine.beneficiary_id)
            .where(InvoiceLine.invoice_id == inv.id, InvoiceLine.kind == "monthly")
            .order_by(Beneficiary.name)
            .limit(2)
        ).all()
        for (bid, plan_id, _), months, kind, amount in (
            (first, 2, "credit", D("-50.00")),
            (second, 3, "retroactive", D("80.00")),
        ):
            s.add(
                InvoiceLine(
                    invoice_id=inv.id,
                    beneficiary_id=bid,
                    plan_id=plan_id,
                    reference_month=add_months(inv.billing_month, -months),
                    age_band=5,
                    kind=kind,
                    amount=amount,
                )
            )
        inv.amount = inv.amount + D("30.00")
        s.commit()
        s.expunge(inv)
    engine.dispose()  # type: ignore[attr-defined]
    return inv, first[2], second[2]


def test_the_invoice_detail_labels_a_credit_and_a_catch_up_with_their_reference_months(
    app, portal_db: str
):
    inv, credited, caught_up = _add_adjustments(portal_db)
    at = log_in(app(), "100001")
    at.switch_page("pages/invoices.py").run()
    by_label(at.selectbox, "Ano").select(inv.billing_month.year).run()
    by_label(at.selectbox, "Fatura").select(inv.id).run()
    assert not at.exception, at.exception
    lines = at.dataframe[1].value
    credit = lines[lines["Tipo"] == "Crédito"]
    assert (credit["Beneficiário"] == credited).any()
    row = credit[credit["Beneficiário"] == credited].iloc[0]
    assert row["Competência de referência"] == _month(add_months(inv.billing_month, -2))
    assert row["Valor"] == "-R$ 50,00"
    retro = lines[(lines["Tipo"] == "Retroativo") & (lines["Beneficiário"] == caught_up)]
    assert list(retro["Competência de referência"]) == [_month(add_months(inv.billing_month, -3))]
    assert list(retro["Valor"]) == ["R$ 80,00"]

    by_kind = at.dataframe[2].value
    assert list(by_kind.columns) == ["Tipo", "Lançamentos", "Competências de referência", "Valor"]
    kinds = list(by_kind["Tipo"])
    assert kinds[0] == "Mensalidade" and {"Retroativo", "Crédito"} <= set(kinds)
    assert kinds.index("Retroativo") < kinds.index("Crédito")
    metrics = {m.label: m.value for m in at.metric}
    assert {"Mensalidades", "Ajustes", "Valor da fatura"} <= set(metrics)

    by_label(at.toggle, "Só ajustes").set_value(True).run()
    assert not at.exception, at.exception
    only = at.dataframe[1].value
    assert "Mensalidade" not in set(only["Tipo"])
    assert {"Crédito", "Retroativo"} <= set(only["Tipo"])
    assert len(only) < len(lines)


def _shorten_and_uncharge(url: str, x: date) -> tuple[str, str]:
    """Before billing month ``x`` of company 10001: one beneficiary's coverage ends two
    months back (its charged months x-2 and x-1 are now credits), and another's line of
    month x-1 is removed (a covered month never charged: catch-up)."""
    s, engine = _session(url)
    with s:
        company_id = _company_id(s)
        last = add_months(x, -1)
        charged = select(InvoiceLine.beneficiary_id).join(
            Invoice, Invoice.id == InvoiceLine.invoice_id
        )
        candidates = s.execute(
            select(CoveragePeriod.id, CoveragePeriod.beneficiary_id, Beneficiary.name)
            .join(Beneficiary, Beneficiary.id == CoveragePeriod.beneficiary_id)
            .where(
                CoveragePeriod.company_id == company_id,
                CoveragePeriod.kind == "regular",
                CoveragePeriod.end_date.is_(None),
                CoveragePeriod.start_date < add_months(x, -3),
                CoveragePeriod.beneficiary_id.in_(
                    charged.where(
                        Invoice.company_id == company_id,
                        Invoice.billing_month == last,
                        InvoiceLine.kind == "monthly",
                    )
                ),
            )
            .order_by(Beneficiary.name)
            .limit(2)
        ).all()
        assert len(candidates) == 2, "the demo has active beneficiaries in 10001"
        (period_id, _, ended), (_, uncharged_id, uncharged) = candidates
        # only this beneficiary's one period: nothing else covers it afterwards
        assert (
            s.scalar(
                select(func.count())
                .select_from(CoveragePeriod)
                .where(CoveragePeriod.beneficiary_id == candidates[0][1])
            )
            == 1
        )
        s.execute(
            update(CoveragePeriod)
            .where(CoveragePeriod.id == period_id)
            .values(end_date=add_months(x, -2))
        )
        last_invoice = s.scalar(
            select(Invoice.id).where(
                Invoice.company_id == company_id, Invoice.billing_month == last
            )
        )
        s.execute(
            delete(InvoiceLine).where(
                InvoiceLine.invoice_id == last_invoice,
                InvoiceLine.beneficiary_id == uncharged_id,
            )
        )
        s.commit()
    engine.dispose()  # type: ignore[attr-defined]
    return ended, uncharged


def test_the_billing_run_shows_the_credits_and_catch_up_it_issued_per_company(
    app, portal_db: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PORTAL_QUEUE_URL", "immediate")  # the queued run runs at once
    x = add_months(datetime.now(UTC).date(), 1)
    ended, uncharged = _shorten_and_uncharge(portal_db, x)
    at = log_in(app(), "900001")
    at.switch_page("pages/billing_run.py").run()
    assert not at.exception, at.exception
    by_label(at.radio, "Empresas").set_value("Toda a carteira").run()
    by_label(at.button, "Faturar").click().run()
    assert not at.exception, at.exception
    billed = at.dataframe[0].value
    for column in ("Mensalidades", "Retroativos", "Créditos", "Diferenças de plano", "Art. 30/31"):
        assert column in billed.columns
    ours = billed[billed["Empresa"].str.startswith("10001 ")].iloc[0]
    assert ours["Créditos"] >= 2 and ours["Retroativos"] >= 1
    assert ours["Lançamentos"] == sum(
        int(ours[c])
        for c in ("Mensalidades", "Retroativos", "Créditos", "Diferenças de plano", "Art. 30/31")
    )
    adjustments = at.dataframe[1].value
    assert list(adjustments.columns) == [
        "Empresa",
        "Beneficiário",
        "Carteirinha",
        "Tipo",
        "Competência de referência",
        "Valor",
    ]
    mine = adjustments[adjustments["Empresa"] == "10001"]
    credits = mine[(mine["Tipo"] == "Crédito") & (mine["Beneficiário"] == ended)]
    assert sorted(credits["Competência de referência"]) == sorted(
        [_month(add_months(x, -2)), _month(add_months(x, -1))]
    )
    assert all(v.startswith("-R$ ") for v in credits["Valor"])
    retro = mine[(mine["Tipo"] == "Retroativo") & (mine["Beneficiário"] == uncharged)]
    assert list(retro["Competência de referência"]) == [_month(add_months(x, -1))]
