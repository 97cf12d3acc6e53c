"""Cost centres on both databases: the list and its changes, the import, a holder's cost
centre through every channel (form, batch line, update, transfer), dependents following
their holder, the invoice's split, the billing and beneficiary reports' filters, and
company isolation."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

import demo.generator
from data.models import AuditRecord, Beneficiary, CostCentre, Invoice
from services import billing
from services.actors import Permission
from services.batch.layout import COLUMN_NAMES
from services.batch.processing import batch_apply, batch_receive
from services.cost_centres import (
    cost_centre_add,
    cost_centre_deactivate,
    cost_centre_import,
    cost_centre_list,
    cost_centre_reactivate,
    cost_centre_rename,
    cost_centre_requirement_set,
    cost_centre_template,
)
from services.movements.service import (
    InclusionRequest,
    TransferRequest,
    UpdateRequest,
    beneficiary_detail,
    movement_apply,
    movement_options,
)
from services.reports.beneficiaries import ACTIVE, BeneficiaryFilters, beneficiary_report
from services.rules.cost_centres import NO_COST_CENTRE, ImportRefused
from services.rules.eligibility import Relationship
from services.rules.errors import DomainError
from tests.services.movements_support import (
    NOW,
    TODAY,
    World,
    child_person,
    delta,
    fields_of,
    holder_person,
    make_world,
    new_cpf,
    without_permissions,
)

D = Decimal


@pytest.fixture
def world(engine, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(engine)


def centre_ids(w: World, code: str = "10001") -> dict[str, int]:
    with w.factory() as s:
        return dict(
            s.execute(
                select(CostCentre.code, CostCentre.id).where(
                    CostCentre.company_id == w.company[code]
                )
            ).all()
        )


def audits(w: World, action_prefix: str = "cost_centre") -> int:
    with w.factory() as s:
        return (
            s.scalar(select(func.count()).where(AuditRecord.action.startswith(action_prefix))) or 0
        )


def include_holder(w: World, cost_centre: str | None, code: str = "10001") -> str:
    plan = movement_options(uow=w.uow(code), actor=w.master, today=TODAY).plans[0].id
    result = movement_apply(
        uow=w.uow(code),
        actor=w.master,
        request=InclusionRequest(person=holder_person(), plan_id=plan, cost_centre=cost_centre),
        now=NOW,
    )
    return result.card_number


# ---------------------------------------------------------------- the list


def test_the_list_has_the_demo_cost_centres_and_counts_every_active_holder(world: World):
    w = world
    listing = cost_centre_list(uow=w.uow(), actor=w.master)
    assert [r.code for r in listing.rows] == ["ADM", "COM", "OPE", "TI"]
    assert all(r.active for r in listing.rows)
    with w.factory() as s:
        active_holders = s.scalar(
            select(func.count()).where(
                Beneficiary.company_id == w.company["10001"],
                Beneficiary.status == "active",
                Beneficiary.relationship_code == 1,
            )
        )
    assert sum(r.holders for r in listing.rows) + listing.holders_without == active_holders
    assert listing.holders_without == 0


def test_a_cost_centre_is_added_renamed_deactivated_and_reactivated_each_audited(world: World):
    w = world
    before = audits(w)
    row = cost_centre_add(uow=w.uow(), actor=w.master, code=" fin ", name="Financeiro", now=NOW)
    assert (row.code, row.name, row.active, row.holders) == ("FIN", "Financeiro", True, 0)
    row = cost_centre_rename(
        uow=w.uow(), actor=w.master, cost_centre_id=row.id, name="Finanças", now=NOW
    )
    assert row.name == "Finanças"
    assert not cost_centre_deactivate(
        uow=w.uow(), actor=w.master, cost_centre_id=row.id, now=NOW
    ).active
    assert cost_centre_reactivate(
        uow=w.uow(), actor=w.master, cost_centre_id=row.id, now=NOW
    ).active
    assert audits(w) == before + 4
    with w.factory() as s:
        last = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "cost_centre_rename")
            .order_by(AuditRecord.id.desc())
        ).first()
    assert last is not None and last.before and last.after
    assert last.before["name"] == "Financeiro" and last.after["name"] == "Finanças"
    assert last.company_id == w.company["10001"]


def test_refusals_of_the_list_write_nothing(world: World):
    w = world
    ids = centre_ids(w)
    snap, before = w.snapshot(), audits(w)
    with pytest.raises(DomainError, match="ADM já existe") as info:
        cost_centre_add(uow=w.uow(), actor=w.master, code="adm", name="Outro", now=NOW)
    assert info.value.field == "code"
    with pytest.raises(DomainError, match="Informe o nome"):
        cost_centre_add(uow=w.uow(), actor=w.master, code="NEW", name=" ", now=NOW)
    with pytest.raises(DomainError, match="titular\\(es\\) ativo\\(s\\)"):
        cost_centre_deactivate(uow=w.uow(), actor=w.master, cost_centre_id=ids["ADM"], now=NOW)
    with pytest.raises(DomainError, match="mesmo"):
        cost_centre_rename(
            uow=w.uow(), actor=w.master, cost_centre_id=ids["ADM"], name="Administração", now=NOW
        )
    with pytest.raises(DomainError, match="já está ativo"):
        cost_centre_reactivate(uow=w.uow(), actor=w.master, cost_centre_id=ids["ADM"], now=NOW)
    assert delta(snap, w.snapshot()) == {} and audits(w) == before
    assert len(centre_ids(w)) == 4


def test_only_who_registers_movements_keeps_the_list(world: World):
    w = world
    finance_only = without_permissions(w.master, Permission.MOVEMENTS)
    with pytest.raises(DomainError, match="permissão"):
        cost_centre_list(uow=w.uow(), actor=finance_only)
    with pytest.raises(DomainError, match="permissão"):
        cost_centre_add(uow=w.uow(), actor=finance_only, code="X", name="X", now=NOW)
    assert "X" not in centre_ids(w)


def test_another_companys_cost_centres_are_neither_listed_nor_changed(world: World):
    w = world
    mine = cost_centre_add(uow=w.uow(), actor=w.master, code="ONLY1", name="Só 10001", now=NOW)
    other = cost_centre_list(uow=w.uow("10002"), actor=w.master)
    assert "ONLY1" not in [r.code for r in other.rows]
    with pytest.raises(DomainError, match="não encontrado nesta empresa"):
        cost_centre_rename(
            uow=w.uow("10002"), actor=w.master, cost_centre_id=mine.id, name="Roubado", now=NOW
        )
    # Company 10004 is outside the master's group: no access at all.
    with pytest.raises(DomainError, match="acesso"):
        cost_centre_list(uow=w.uow("10004"), actor=w.master)
    # A holder of 10002 cannot be put in 10001's cost centre.
    with pytest.raises(DomainError) as info:
        include_holder(w, "ONLY1", code="10002")
    assert "cost_centre" in fields_of(info.value)


# ---------------------------------------------------------------- import


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    return out.getvalue().encode("utf-8")


def test_an_import_adds_new_codes_renames_known_ones_and_reactivates(world: World):
    w = world
    fin = cost_centre_add(uow=w.uow(), actor=w.master, code="FIN", name="Financeiro", now=NOW)
    cost_centre_deactivate(uow=w.uow(), actor=w.master, cost_centre_id=fin.id, now=NOW)
    content = _csv(
        [
            ["codigo", "nome"],
            ["adm", "Administração Geral"],
            ["COM", "Comercial"],
            ["fin", "Financeiro"],
            ["LOG", "Logística"],
        ]
    )
    result = cost_centre_import(
        uow=w.uow(), actor=w.master, file_name="centros.csv", content=content, now=NOW
    )
    assert (result.added, result.renamed, result.reactivated, result.unchanged) == (1, 1, 1, 1)
    rows = {r.code: r for r in cost_centre_list(uow=w.uow(), actor=w.master).rows}
    assert rows["ADM"].name == "Administração Geral"
    assert rows["FIN"].active and rows["LOG"].name == "Logística"
    assert set(rows) == {"ADM", "COM", "OPE", "TI", "FIN", "LOG"}  # nothing removed


def test_an_import_with_one_bad_line_imports_nothing_and_lists_every_problem(world: World):
    w = world
    snap, before = w.snapshot(), audits(w)
    content = _csv([["codigo", "nome"], ["NEW", "Novo"], ["", "Sem código"], ["NEW", "De novo"]])
    with pytest.raises(ImportRefused) as info:
        cost_centre_import(
            uow=w.uow(), actor=w.master, file_name="centros.csv", content=content, now=NOW
        )
    assert [p.split(":")[0] for p in info.value.problems] == ["Linha 3", "Linha 4"]
    assert "NEW" not in centre_ids(w)
    assert delta(snap, w.snapshot()) == {} and audits(w) == before
    with pytest.raises(DomainError, match="Formato não aceito"):
        cost_centre_import(uow=w.uow(), actor=w.master, file_name="c.pdf", content=b"x", now=NOW)


def test_the_template_imports_as_it_is_in_xlsx(world: World):
    w = world
    book = load_workbook(io.BytesIO(cost_centre_template("xlsx")))
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["codigo", "nome"]
    assert sheet["A4"].value == "101"  # text: the leading digits survive
    result = cost_centre_import(
        uow=w.uow(),
        actor=w.master,
        file_name="modelo.xlsx",
        content=cost_centre_template("xlsx"),
        now=NOW,
    )
    assert (result.added, result.unchanged) == (1, 2)  # 101 is new; ADM and COM as they are
    assert "101" in centre_ids(w)
    assert cost_centre_template("csv").decode("utf-8-sig").splitlines()[0] == "codigo;nome"


# ---------------------------------------------------------------- movements


def test_a_holder_included_with_a_cost_centre_keeps_it_and_its_dependent_follows(world: World):
    w = world
    ids = centre_ids(w)
    card = include_holder(w, " ope ")
    holder = w.by_card(card)
    assert holder.cost_centre_id == ids["OPE"]
    child = movement_apply(
        uow=w.uow(),
        actor=w.master,
        request=InclusionRequest(
            person=child_person(), relationship_code=Relationship.CHILD, holder_card=card
        ),
        now=NOW,
    )
    assert w.by_card(child.card_number).cost_centre_id is None  # it reads its holder's
    detail = beneficiary_detail(uow=w.uow(), actor=w.master, card_number=child.card_number)
    assert detail.cost_centre is not None and detail.cost_centre.code == "OPE"
    # The same code for the dependent is accepted; another is refused.
    same = movement_apply(
        uow=w.uow(),
        actor=w.master,
        request=InclusionRequest(
            person=child_person(name="Lucas Souza"),
            relationship_code=Relationship.CHILD,
            holder_card=card,
            cost_centre="OPE",
        ),
        now=NOW,
    )
    assert w.by_card(same.card_number).cost_centre_id is None
    snap = w.snapshot()
    with pytest.raises(DomainError) as info:
        movement_apply(
            uow=w.uow(),
            actor=w.master,
            request=InclusionRequest(
                person=child_person(name="Julia Souza"),
                relationship_code=Relationship.CHILD,
                holder_card=card,
                cost_centre="ADM",
            ),
            now=NOW,
        )
    assert "cost_centre" in fields_of(info.value)
    assert delta(snap, w.snapshot()) == {}


def test_a_company_may_require_a_cost_centre_of_every_holder_included(world: World):
    w = world
    before = audits(w)
    assert cost_centre_requirement_set(uow=w.uow(), actor=w.master, required=True, now=NOW)
    assert cost_centre_list(uow=w.uow(), actor=w.master).required
    assert movement_options(uow=w.uow(), actor=w.master, today=TODAY).cost_centre_required
    assert audits(w) == before + 1
    snap = w.snapshot()
    with pytest.raises(DomainError, match="esta empresa exige um") as info:
        include_holder(w, None)
    assert "cost_centre" in fields_of(info.value)
    assert delta(snap, w.snapshot()) == {}
    include_holder(w, "ADM")  # with one, as always
    # A dependent still follows its holder, with nothing to name.
    movement_apply(
        uow=w.uow(),
        actor=w.master,
        request=InclusionRequest(
            person=child_person(),
            relationship_code=Relationship.CHILD,
            holder_card=w.holder(dependents=False).card_number,
        ),
        now=NOW,
    )
    # A batch line without centro_custo is refused with what to fix; other companies
    # are not held to it.
    check = batch_receive(
        uow=w.uow(), actor=w.master, file_name="lote.csv", content=_file([_holder_line(w)]), now=NOW
    )
    assert [line.status for line in check.lines] == ["refused"]
    assert "exige um" in check.lines[0].message
    include_holder(w, None, code="10002")
    assert not cost_centre_requirement_set(uow=w.uow(), actor=w.master, required=False, now=NOW)
    include_holder(w, None)


def test_the_requirement_needs_an_active_cost_centre_and_keeps_the_last_one(world: World):
    w = world
    ids = centre_ids(w, "10002")
    with w.factory() as s:
        s.execute(update(Beneficiary).values(cost_centre_id=None))
        s.execute(update(CostCentre).values(active=False).where(CostCentre.code != "ADM"))
        s.commit()
    uow = w.uow("10002")
    assert cost_centre_requirement_set(uow=uow, actor=w.master, required=True, now=NOW)
    with pytest.raises(DomainError, match="último centro de custo ativo"):
        cost_centre_deactivate(uow=uow, actor=w.master, cost_centre_id=ids["ADM"], now=NOW)
    cost_centre_requirement_set(uow=uow, actor=w.master, required=False, now=NOW)
    cost_centre_deactivate(uow=uow, actor=w.master, cost_centre_id=ids["ADM"], now=NOW)
    with pytest.raises(DomainError, match="ao menos um centro de custo ativo"):
        cost_centre_requirement_set(uow=uow, actor=w.master, required=True, now=NOW)
    assert not cost_centre_list(uow=uow, actor=w.master).required


def test_a_holder_without_a_cost_centre_is_accepted_and_reported_as_such(world: World):
    w = world
    card = include_holder(w, None)
    assert w.by_card(card).cost_centre_id is None
    assert cost_centre_list(uow=w.uow(), actor=w.master).holders_without == 1


@pytest.mark.parametrize(
    ("code", "words"), [("XYZ", "não existe nesta empresa"), ("FIN", "desativado")]
)
def test_an_unknown_or_deactivated_cost_centre_refuses_the_inclusion(
    world: World, code: str, words: str
):
    w = world
    fin = cost_centre_add(uow=w.uow(), actor=w.master, code="FIN", name="Financeiro", now=NOW)
    cost_centre_deactivate(uow=w.uow(), actor=w.master, cost_centre_id=fin.id, now=NOW)
    snap = w.snapshot()
    with pytest.raises(DomainError, match=words) as info:
        include_holder(w, code)
    assert "cost_centre" in fields_of(info.value)
    assert delta(snap, w.snapshot()) == {}


def test_the_update_movement_moves_the_holder_and_its_family_to_another_cost_centre(
    world: World,
):
    w = world
    ids = centre_ids(w)
    holder = w.holder(dependents=True)
    new = next(code for code, cid in ids.items() if cid != holder.cost_centre_id)
    result = movement_apply(
        uow=w.uow(),
        actor=w.master,
        request=UpdateRequest(card_number=holder.card_number, changes={}, cost_centre=new),
        now=NOW,
    )
    assert result.changes["cost_centre"][1] == new
    assert w.by_card(holder.card_number).cost_centre_id == ids[new]
    dependent = w.dependents(holder.id)[0]
    detail = beneficiary_detail(uow=w.uow(), actor=w.master, card_number=dependent.card_number)
    assert detail.cost_centre is not None and detail.cost_centre.code == new
    with w.factory() as s:
        audit = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "movement_update")
            .order_by(AuditRecord.id.desc())
        ).first()
    assert audit is not None and audit.after and audit.after["cost_centre"] == new
    # Again the same: nothing to change. A dependent's own: refused.
    with pytest.raises(DomainError, match="Nenhum dado"):
        movement_apply(
            uow=w.uow(),
            actor=w.master,
            request=UpdateRequest(card_number=holder.card_number, changes={}, cost_centre=new),
            now=NOW,
        )
    with pytest.raises(DomainError, match="é do titular") as info:
        movement_apply(
            uow=w.uow(),
            actor=w.master,
            request=UpdateRequest(card_number=dependent.card_number, changes={}, cost_centre="ADM"),
            now=NOW,
        )
    assert info.value.field == "cost_centre"


def test_a_transfer_leaves_the_origins_cost_centre_behind(world: World):
    w = world
    holder = w.holder(dependents=False)
    assert holder.cost_centre_id is not None
    movement_apply(
        uow=w.uow(),
        actor=w.master,
        request=TransferRequest(
            card_number=holder.card_number, target_company_id=w.company["10002"]
        ),
        now=NOW,
    )
    moved = w.by_card(holder.card_number)
    assert moved.company_id == w.company["10002"] and moved.cost_centre_id is None


# ---------------------------------------------------------------- batch


def _file(rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMN_NAMES) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c) or "" for c in columns])
    return out.getvalue().encode("utf-8")


def _holder_line(w: World, **overrides: str) -> dict[str, str]:
    plan = movement_options(uow=w.uow(), actor=w.master, today=TODAY).plans[0].code
    return {
        "tipo_movimento": "INCLUSAO",
        "cpf": new_cpf(),
        "nome": "MARIANA LOTE CENTRO",
        "data_nascimento": "15/03/1985",
        "sexo": "F",
        "nome_mae": "ANA LOTE CENTRO",
        "cep": "01310100",
        "municipio": "SAO PAULO",
        "uf": "SP",
        "data_admissao": "02/01/2024",
        "parentesco": "1",
        "codigo_plano": plan,
        **overrides,
    }


def test_the_batch_column_sets_checks_and_changes_the_cost_centre(world: World):
    w = world
    ids = centre_ids(w)
    moved = w.holder(dependents=False, last=True)
    new = next(code for code, cid in ids.items() if cid != moved.cost_centre_id)
    good = _holder_line(w, centro_custo="com")
    rows = [
        good,
        _holder_line(w, nome="LINHA CENTRO ERRADO", centro_custo="XYZ"),
        _holder_line(w, nome="LINHA SEM CENTRO"),
        {"tipo_movimento": "ALTERACAO", "carteirinha": moved.card_number, "centro_custo": new},
    ]
    check = batch_receive(
        uow=w.uow(), actor=w.master, file_name="lote.csv", content=_file(rows), now=NOW
    )
    assert [line.status for line in check.lines] == ["accepted", "refused", "accepted", "accepted"]
    refused = check.lines[1]
    assert refused.field == "cost_centre"
    assert "Centro de custo XYZ não existe nesta empresa" in refused.message
    applied = batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW)
    assert applied.applied == 3
    with w.factory() as s:
        stored = dict(
            s.execute(
                select(Beneficiary.cpf, Beneficiary.cost_centre_id).where(
                    Beneficiary.cpf.in_([good["cpf"], rows[2]["cpf"]])
                )
            ).all()
        )
    assert stored == {good["cpf"]: ids["COM"], rows[2]["cpf"]: None}
    assert w.by_card(moved.card_number).cost_centre_id == ids[new]


def test_a_batch_file_without_the_column_still_includes_holders(world: World):
    w = world
    columns = tuple(c for c in COLUMN_NAMES if c != "centro_custo")
    check = batch_receive(
        uow=w.uow(),
        actor=w.master,
        file_name="antigo.csv",
        content=_file([_holder_line(w)], columns),
        now=NOW,
    )
    assert [line.status for line in check.lines] == ["accepted"]


# ---------------------------------------------------------------- invoices and reports


def _last_invoice(w: World) -> Invoice:
    with w.factory() as s:
        found = s.scalars(
            select(Invoice)
            .where(Invoice.company_id == w.company["10001"])
            .order_by(Invoice.billing_month.desc())
        ).first()
    assert found is not None
    return found


def test_the_invoice_splits_by_cost_centre_and_its_sheets_add_up_to_the_cent(world: World):
    w = world
    inv = _last_invoice(w)
    detail = billing.invoice_detail(uow=w.uow(), actor=w.master, invoice_id=inv.id, today=TODAY)
    split = detail.by_cost_centre
    assert split is not None
    assert sum(split["Valor"], D(0)) == inv.amount == sum(detail.lines["Valor"], D(0))
    assert sum(split["Lançamentos"]) == len(detail.lines)
    assert set(detail.lines["Centro de custo"]) == set(split["Centro de custo"])
    book = load_workbook(
        io.BytesIO(billing.invoice_download(detail, "xlsx", generated_at=NOW)), data_only=True
    )
    assert book.sheetnames[:2] == ["Fatura", "Por centro de custo"]
    per_centre = book.sheetnames[2:]
    assert len(per_centre) == len(split) and all(n.startswith("CC ") for n in per_centre)
    total = D(0)
    for name in per_centre:
        sheet = book[name]
        rows = list(sheet.iter_rows(values_only=True))
        header = next(i for i, r in enumerate(rows) if r and r[0] == "Beneficiário")
        at = list(rows[header]).index("Valor")
        total += sum((D(str(r[at])) for r in rows[header + 1 :] if r[at] is not None), D(0))
    assert total == inv.amount


def test_a_company_without_cost_centres_gets_its_invoice_as_before(world: World):
    w = world
    with w.factory() as s:
        s.execute(update(Beneficiary).values(cost_centre_id=None))
        s.execute(delete(CostCentre))
        s.commit()
    inv = _last_invoice(w)
    detail = billing.invoice_detail(uow=w.uow(), actor=w.master, invoice_id=inv.id, today=TODAY)
    assert detail.by_cost_centre is None
    assert list(detail.lines.columns) == billing.LINE_COLUMNS
    book = load_workbook(io.BytesIO(billing.invoice_download(detail, "xlsx", generated_at=NOW)))
    assert book.sheetnames == ["Fatura"]


def test_the_billing_report_splits_and_filters_by_cost_centre(world: World):
    w = world
    ids = centre_ids(w)
    uow, actor = w.uow(), w.master
    options = billing.billing_report_options(uow=uow, actor=actor)
    assert set(options.cost_centres) == {*ids.values(), NO_COST_CENTRE}
    start, end = options.months[0], options.months[-1]
    report = billing.billing_report(uow=w.uow(), actor=actor, start=start, end=end)
    split = report.by_cost_centre
    assert split is not None
    assert sum(split["Total"], D(0)) == report.total
    assert "Centro de custo" in report.by_beneficiary.columns
    adm = split[split["Centro de custo"].str.startswith("ADM")]
    only = billing.billing_report(
        uow=w.uow(), actor=actor, start=start, end=end, cost_centre_ids=[ids["ADM"]]
    )
    assert only.total == adm["Total"].iloc[0]
    assert only.cost_centre_filter.startswith("ADM")
    assert set(only.by_beneficiary["Centro de custo"]) == {adm["Centro de custo"].iloc[0]}
    none = billing.billing_report(
        uow=w.uow(), actor=actor, start=start, end=end, cost_centre_ids=[NO_COST_CENTRE]
    )
    assert none.total == D(0)
    book = load_workbook(
        io.BytesIO(
            billing.billing_report_download(report, "xlsx", company_label="10001", generated_at=NOW)
        )
    )
    assert book.sheetnames[-1] == "Por centro de custo"


def test_the_beneficiary_report_filters_by_cost_centre_with_dependents_in_their_holders(
    world: World,
):
    w = world
    ids = centre_ids(w)
    everyone = beneficiary_report(
        uow=w.uow(), actor=w.master, status=ACTIVE, filters=BeneficiaryFilters(), today=TODAY
    )
    assert "Centro de custo" in everyone.table.columns
    assert all(label for label in everyone.table["Centro de custo"])  # every holder has one
    adm = beneficiary_report(
        uow=w.uow(),
        actor=w.master,
        status=ACTIVE,
        filters=BeneficiaryFilters(cost_centre_ids=(ids["ADM"],)),
        today=TODAY,
    )
    assert adm.total and set(adm.table["Centro de custo"]) == {"ADM · Administração"}
    assert adm.dependents > 0  # dependents come with their holders
    with w.factory() as s:
        holders = {
            b.id
            for b in s.scalars(
                select(Beneficiary).where(
                    Beneficiary.company_id == w.company["10001"],
                    Beneficiary.cost_centre_id == ids["ADM"],
                )
            )
        }
        expected = s.scalar(
            select(func.count()).where(
                Beneficiary.status == "active",
                Beneficiary.id.in_(holders) | Beneficiary.holder_id.in_(holders),
            )
        )
    assert adm.total == expected
    include_holder(w, None)
    without = beneficiary_report(
        uow=w.uow(),
        actor=w.master,
        status=ACTIVE,
        filters=BeneficiaryFilters(cost_centre_ids=(NO_COST_CENTRE,)),
        today=TODAY,
    )
    assert without.total == 1 and list(without.table["Centro de custo"]) == [""]
    other = beneficiary_report(
        uow=w.uow("10002"),
        actor=w.master,
        status=ACTIVE,
        filters=BeneficiaryFilters(cost_centre_ids=(ids["ADM"],)),
        today=TODAY,
    )
    assert other.total == 0  # 10001's cost centre selects nobody of 10002
