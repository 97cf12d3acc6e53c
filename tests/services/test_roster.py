"""Roster reconciliation on both databases: the three lists from a roster built from the
company's own holders, line errors, dismissed holders, cost-centre differences, the batch
made of the chosen lines (checked by batch_receive, per-line status), company isolation."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

import demo.generator
from data.models import AuditRecord, BatchFile, Beneficiary, CostCentre, PersonalDataAccess
from services.actors import Permission
from services.batch.files import parse_batch_file
from services.batch.layout import COLUMN_NAMES
from services.batch.processing import batch_apply
from services.roster import (
    ChosenExclusion,
    roster_inclusion_file,
    roster_reconcile,
    roster_template,
    roster_to_batch,
)
from services.rules.documents import format_cpf, mask_cpf
from services.rules.errors import DomainError
from services.rules.roster import NOT_ON_ROSTER
from tests.services.movements_support import (
    NOW,
    TODAY,
    World,
    make_world,
    new_cpf,
    without_permissions,
)


@pytest.fixture
def world(engine, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(engine)


def active_holders(w: World, code: str = "10001") -> list[tuple[Beneficiary, str]]:
    """(holder, cost centre code) of every active holder of the company, in id order."""
    with w.factory() as s:
        rows = s.execute(
            select(Beneficiary, CostCentre.code)
            .outerjoin(CostCentre, CostCentre.id == Beneficiary.cost_centre_id)
            .where(
                Beneficiary.company_id == w.company[code],
                Beneficiary.relationship_code == 1,
                Beneficiary.status == "active",
            )
            .order_by(Beneficiary.id)
        ).all()
        for b, _ in rows:
            s.expunge(b)
        return [(b, cc or "") for b, cc in rows]


def roster_csv(rows: list[list[Any]]) -> bytes:
    out = ["CPF;Nome;Data de admissão;Data de demissão;Centro de custo"]
    out += [";".join("" if v is None else str(v) for v in row) for row in rows]
    return ("\n".join(out) + "\n").encode("utf-8")


def roster_xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["cpf", "nome", "data_admissao", "data_demissao", "centro_custo"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def base_rows(w: World) -> list[list[Any]]:
    """The company's active holders as a roster that matches the portal exactly."""
    return [[b.cpf, b.name, "", "", cc] for b, cc in active_holders(w)]


def reconcile(
    w: World, content: bytes, name: str = "folha.csv", code: str = "10001", actor: Any = None
) -> Any:
    return roster_reconcile(
        uow=w.uow(code), actor=actor or w.master, file_name=name, content=content, now=NOW
    )


def test_a_roster_that_matches_the_company_shows_no_difference(world: World):
    r = reconcile(world, roster_csv(base_rows(world)))
    assert (r.inclusions, r.exclusions, r.updates, r.errors) == ([], [], [], [])
    assert r.lines == len(active_holders(world))


def test_the_three_lists(world: World):
    holders = active_holders(world)
    rows = base_rows(world)
    (dismissed, _), (missing, _), (renamed, _), (moved, moved_cc) = holders[:4]
    codes = sorted(
        world.all(select(CostCentre.code).where(CostCentre.company_id == world.company["10001"]))
    )
    other_cc = next(c for c in codes if c != moved_cc)
    rows[0][3] = (TODAY - timedelta(days=3)).strftime("%d/%m/%Y")
    del rows[1]  # `missing` is not on the roster
    rows[1][1] = "NOME CORRIGIDO DA SILVA"  # holders[2]
    rows[2][4] = other_cc.lower()  # holders[3]: another cost centre (case ignored)
    new = new_cpf()
    rows.append([new, "NOVA PESSOA DA FOLHA", "01/11/2026", "", codes[0]])
    r = reconcile(world, roster_xlsx(rows), "folha.xlsx")

    assert [(o.entry.cpf, o.entry.name, o.reactivation_card) for o in r.inclusions] == [
        (new, "NOVA PESSOA DA FOLHA", "")
    ]
    exclusions = {o.holder.card: o for o in r.exclusions}
    assert set(exclusions) == {dismissed.card_number, missing.card_number}
    assert exclusions[missing.card_number].reason == NOT_ON_ROSTER
    assert exclusions[dismissed.card_number].reason == (
        f"demitido em {(TODAY - timedelta(days=3)):%d/%m/%Y}"
    )
    assert exclusions[dismissed.card_number].suggested_reason == "demissao"
    updates = {u.holder.card: u for u in r.updates}
    assert set(updates) == {renamed.card_number, moved.card_number}
    assert (
        updates[renamed.card_number].new_name,
        updates[renamed.card_number].new_cost_centre,
    ) == (
        "NOME CORRIGIDO DA SILVA",
        None,
    )
    assert updates[moved.card_number].new_cost_centre == other_cc
    assert updates[moved.card_number].new_name is None
    assert not updates[moved.card_number].unknown_cost_centre


def test_invalid_cpf_lines_are_listed_and_the_rest_is_reconciled(world: World):
    rows = base_rows(world)
    rows.insert(0, ["123.456.789-00", "CPF ERRADO", "", "", ""])
    rows.insert(1, ["", "SEM CPF", "", "", ""])
    r = reconcile(world, roster_csv(rows))
    assert [(e.line, e.value) for e in r.errors] == [(2, "123.456.789-00"), (3, "")]
    assert all(e.message for e in r.errors)
    assert (r.inclusions, r.exclusions, r.updates) == ([], [], [])


def test_a_file_without_cpf_column_or_unreadable_is_refused_in_portuguese(world: World):
    with pytest.raises(DomainError, match="coluna CPF"):
        reconcile(world, b"nome;admissao\nANA;01/01/2020\n")
    with pytest.raises(DomainError, match="Formato"):
        reconcile(world, b"cpf\n52998224725\n", name="folha.pdf")
    with pytest.raises(DomainError, match="vazio"):
        reconcile(world, b"", name="folha.csv")


def test_chosen_lines_become_a_batch_checked_by_the_batch_rules(world: World):
    holders = active_holders(world)
    rows = base_rows(world)
    rows[0][3] = (TODAY - timedelta(days=1)).strftime("%d/%m/%Y")  # dismissed
    rows[1][1] = "OUTRO NOME CORRIGIDO"
    rows[2][4] = "NAOEXISTE"  # a cost centre the company does not have
    del rows[3]  # not on the roster: no reason given
    r = reconcile(world, roster_csv(rows))
    by_card = {o.holder.card: o for o in r.exclusions}
    dismissed = by_card[holders[0][0].card_number]
    missing = by_card[holders[3][0].card_number]
    updates = {u.holder.card: u for u in r.updates}
    unknown = updates[holders[2][0].card_number]
    assert unknown.unknown_cost_centre

    before = len(world.all(select(AuditRecord.id).where(AuditRecord.action == "batch_receive")))
    made = roster_to_batch(
        uow=world.uow(),
        actor=world.master,
        now=NOW,
        exclusions=[ChosenExclusion(dismissed, "demissao"), ChosenExclusion(missing, None)],
        updates=[updates[holders[1][0].card_number], unknown],
    )
    assert made.individual == []
    check = made.check
    assert check is not None
    statuses = [(x.line_number, x.status) for x in check.lines]
    # Lines 2-3: the exclusions, 4-5: the updates (the header is line 1).
    assert statuses == [(2, "accepted"), (3, "refused"), (4, "accepted"), (5, "refused")]
    assert "motivo_exclusao" in check.lines[1].message or "motivo" in check.lines[1].message
    assert "centro de custo" in check.lines[3].message.lower()
    assert (check.batch.accepted_lines, check.batch.refused_lines) == (2, 2)
    # Each line is named after the holder it was made for (the batch names them by card).
    assert [x.name for x in check.lines] == [
        dismissed.holder.name,
        missing.holder.name,
        "OUTRO NOME CORRIGIDO",  # an update line has the new name in the file
        holders[2][0].name,
    ]
    batches = world.all(select(BatchFile).where(BatchFile.id == check.batch.id))
    assert batches[0].company_id == world.company["10001"] and batches[0].status == "received"
    after = len(world.all(select(AuditRecord.id).where(AuditRecord.action == "batch_receive")))
    assert after == before + 1
    # Nothing applied yet: the holder is still active.
    assert world.by_card(dismissed.holder.card).status == "active"


def test_a_contributing_dismissed_holder_goes_to_the_individual_form(world: World):
    rows = base_rows(world)
    rows[0][3] = TODAY.strftime("%d/%m/%Y")
    r = reconcile(world, roster_csv(rows))
    [offer] = r.exclusions
    made = roster_to_batch(
        uow=world.uow(),
        actor=world.master,
        now=NOW,
        exclusions=[ChosenExclusion(offer, "demissao", contributed=True)],
    )
    assert made.check is None and [c.offer for c in made.individual] == [offer]
    # Without contribution (or for another reason) it goes to the batch.
    made = roster_to_batch(
        uow=world.uow(),
        actor=world.master,
        now=NOW,
        exclusions=[ChosenExclusion(offer, "demissao_justa_causa", contributed=True)],
    )
    assert made.check is not None and [x.status for x in made.check.lines] == ["accepted"]


def test_nothing_chosen_is_refused(world: World):
    with pytest.raises(DomainError, match="ao menos uma linha"):
        roster_to_batch(uow=world.uow(), actor=world.master, now=NOW)


def test_a_former_holder_on_the_roster_is_reactivated_through_the_batch(world: World):
    former = world.holder(status="inactive", last=True)
    rows = [*base_rows(world), [former.cpf, former.name, "", "", ""]]
    r = reconcile(world, roster_csv(rows))
    [offer] = r.inclusions
    assert offer.reactivation_card == former.card_number
    made = roster_to_batch(uow=world.uow(), actor=world.master, now=NOW, reactivations=[offer])
    assert made.check is not None
    [line] = made.check.lines
    assert line.status == "accepted", line.message  # checked by the batch rules
    assert line.document  # named by CPF or card, as every batch line


def test_another_companys_holders_are_neither_compared_nor_touched(world: World):
    other = world.holder("10005")
    rows = [*base_rows(world), [other.cpf, other.name, "", "", ""]]
    r = reconcile(world, roster_csv(rows))
    # 10005's holder is a stranger to 10001: offered inclusion, never an update or exclusion
    assert [o.entry.cpf for o in r.inclusions] == [other.cpf]
    assert all(o.reactivation_card == "" for o in r.inclusions)
    cards = {o.holder.card for o in r.exclusions} | {u.holder.card for u in r.updates}
    assert other.card_number not in cards
    # 10005's roster lists 10005's holders only.
    roster5 = roster_csv([]) + f"{other.cpf};;;;\n".encode()
    with pytest.raises(DomainError, match="acesso"):  # 10001's master cannot look at 10005
        reconcile(world, roster5, code="10005")
    r5 = reconcile(world, roster5, code="10005", actor=world.manager)
    mine = {b.card_number for b, _ in active_holders(world)}
    assert not mine & {o.holder.card for o in r5.exclusions}
    # An exclusion offer of 10005 sent in 10001's context is refused by the batch check.
    foreign = next(o for o in r5.exclusions)
    made = roster_to_batch(
        uow=world.uow("10001"),
        actor=world.master,
        now=NOW,
        exclusions=[ChosenExclusion(foreign, "pedido")],
    )
    assert made.check is not None and [x.status for x in made.check.lines] == ["refused"]
    assert world.by_card(foreign.holder.card).status == "active"


def test_the_reconciliation_is_audited_and_personal_data_masked_without_permission(
    world: World,
):
    content = roster_csv(base_rows(world)[1:])
    r = reconcile(world, content)
    audits = world.all(select(AuditRecord).where(AuditRecord.action == "roster_reconcile"))
    assert len(audits) == 1 and audits[0].company_id == world.company["10001"]
    assert audits[0].after is not None and audits[0].after["exclusions"] == 1
    cpf = r.exclusions[0].holder.cpf
    assert r.full_cpf and r.cpf(cpf) == format_cpf(cpf)
    seen = world.all(
        select(PersonalDataAccess).where(PersonalDataAccess.detail.like("Conciliação de folha%"))
    )
    assert [(a.company_id, a.purpose) for a in seen] == [(world.company["10001"], "listagem")]
    # Without the personal-data permission: masked, and no view of personal data recorded.
    limited = without_permissions(world.master, Permission.PERSONAL_DATA)
    r = reconcile(world, content, actor=limited)
    assert not r.full_cpf and r.cpf(cpf) == mask_cpf(cpf) != format_cpf(cpf)
    assert (
        len(
            world.all(
                select(PersonalDataAccess).where(
                    PersonalDataAccess.detail.like("Conciliação de folha%")
                )
            )
        )
        == 1
    )


def test_the_template_reconciles_as_it_is(world: World):
    content = roster_template()
    wb = load_workbook(io.BytesIO(content))
    assert [c.value for c in wb.worksheets[0][1]] == [
        "cpf",
        "nome",
        "data_admissao",
        "data_demissao",
        "centro_custo",
    ]
    r = reconcile(world, content, "modelo.xlsx")
    assert r.errors == []
    assert len(r.inclusions) == 1  # the example not dismissed
    assert roster_template("csv").startswith(b"\xef\xbb\xbfcpf")


def test_the_inclusion_file_is_a_batch_file_pre_filled(world: World):
    new = new_cpf()
    r = reconcile(
        world, roster_csv([*base_rows(world), [new, "NOVA PESSOA", "03/11/2026", "", ""]])
    )
    content = roster_inclusion_file(r.inclusions)
    parsed = parse_batch_file("inclusoes.xlsx", content)
    assert parsed.columns == list(COLUMN_NAMES)
    [line] = parsed.lines
    assert (line.values["cpf"], line.values["nome"], line.values["parentesco"]) == (
        new,
        "NOVA PESSOA",
        "1",
    )
    assert "data_nascimento" in line.problems  # HR completes what a roster lacks


def test_a_future_dismissal_schedules_the_exclusion_for_its_date(world: World):
    rows = base_rows(world)
    later = TODAY + timedelta(days=15)
    rows[0][3] = later.strftime("%d/%m/%Y")  # notice period: dismissed in two weeks
    r = reconcile(world, roster_csv(rows))
    [offer] = r.exclusions
    assert offer.dismissal == later
    made = roster_to_batch(
        uow=world.uow(),
        actor=world.master,
        now=NOW,
        exclusions=[ChosenExclusion(offer, "demissao")],
    )
    assert made.check is not None and [x.status for x in made.check.lines] == ["accepted"]
    with world.factory() as s:
        stored = s.scalars(
            select(BatchFile.content).where(BatchFile.id == made.check.batch.id)
        ).one()
    assert stored is not None
    assert later.strftime("%d/%m/%Y").encode() in stored  # data_vigencia = the dismissal date


def test_applied_the_batch_leaves_the_roster_and_the_plan_in_agreement(world: World):
    holders = active_holders(world)
    rows = base_rows(world)
    (renamed, _), (moved, moved_cc) = holders[0], holders[1]
    codes = sorted(
        world.all(select(CostCentre.code).where(CostCentre.company_id == world.company["10001"]))
    )
    other_cc = next(c for c in codes if c != moved_cc)
    rows[0][1] = "NOME DA FOLHA CORRIGIDO"
    rows[1][4] = other_cc
    rows[2][3] = (TODAY - timedelta(days=2)).strftime("%d/%m/%Y")
    content = roster_csv(rows)
    r = reconcile(world, content)
    made = roster_to_batch(
        uow=world.uow(),
        actor=world.master,
        now=NOW,
        exclusions=[ChosenExclusion(o, o.suggested_reason) for o in r.exclusions],
        updates=r.updates,
    )
    assert made.check is not None
    assert [x.status for x in made.check.lines] == ["accepted"] * 3
    applied = batch_apply(
        uow=world.uow(), actor=world.master, batch_id=made.check.batch.id, now=NOW
    )
    assert (applied.applied, applied.refused) == (3, 0)
    assert world.by_card(renamed.card_number).name == "NOME DA FOLHA CORRIGIDO"
    centre = world.all(
        select(CostCentre.id).where(
            CostCentre.company_id == world.company["10001"], CostCentre.code == other_cc
        )
    )
    assert [world.by_card(moved.card_number).cost_centre_id] == centre
    after = reconcile(world, content)
    assert (after.inclusions, after.exclusions, after.updates) == ([], [], [])


def test_an_xlsx_with_numeric_cpfs_and_real_dates_is_read_as_typed(world: World):
    rows: list[list[Any]] = [
        [int(b.cpf or 0), b.name, None, None, cc] for b, cc in active_holders(world)
    ]
    rows[0][3] = datetime(2026, 11, 2)  # a date cell, as Excel stores it
    r = reconcile(world, roster_xlsx(rows), "folha.xlsx")
    assert r.errors == []
    assert [o.reason for o in r.exclusions] == ["demitido em 02/11/2026"]
    assert (r.inclusions, r.updates) == ([], [])
