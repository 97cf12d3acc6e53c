"""Batch movements on both databases: check, apply, duplicates, resuming an interrupted
batch, and the same refusals as the individual forms."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

import demo.generator
import services.batch.processing
from data.models import BatchFile, Beneficiary, Movement, Protocol
from services.batch.layout import COLUMN_NAMES
from services.batch.processing import (
    BatchCheck,
    BatchFileError,
    batch_apply,
    batch_lines,
    batch_list,
    batch_receive,
    batch_result_file,
)
from services.movements.service import (
    CPF_TAKEN,
    ExclusionRequest,
    InclusionRequest,
    movement_apply,
    movement_options,
)
from services.rules.card_numbers import format_card_number
from services.rules.errors import DomainError, FieldErrors
from services.rules.movements import Channel
from services.rules.waiting import waiting_summary
from tests.services.movements_support import (
    NOW,
    TODAY,
    World,
    delta,
    holder_person,
    make_world,
    new_cpf,
)


@pytest.fixture
def world(engine, monkeypatch: pytest.MonkeyPatch) -> World:
    # The demo password hash (cost 12) is most of the seeding time; nobody logs in here.
    monkeypatch.setattr(demo.generator, "BCRYPT_COST", 4)
    return make_world(engine)


# ---------------------------------------------------------------- files


def xlsx(rows: list[dict[str, Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Movimentacoes"
    ws.append(list(COLUMN_NAMES))
    for row in rows:
        ws.append([row.get(c) for c in COLUMN_NAMES])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_file(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(COLUMN_NAMES)
    for row in rows:
        writer.writerow([row.get(c) or "" for c in COLUMN_NAMES])
    return out.getvalue().encode("utf-8")


def plan_code(w: World) -> str:
    return movement_options(uow=w.uow(), actor=w.master, today=TODAY).plans[0].code


def holder_line(w: World, cpf: str | None = None, **overrides: Any) -> dict[str, Any]:
    line = {
        "tipo_movimento": "INCLUSAO",
        "cpf": cpf or new_cpf(),
        "nome": "MARIANA LOTE TESTE",
        "data_nascimento": "15/03/1985",
        "sexo": "F",
        "nome_mae": "ANA LOTE TESTE",
        "cep": "01310100",
        "municipio": "SAO PAULO",
        "uf": "SP",
        "data_admissao": "02/01/2024",
        "parentesco": "1",
        "codigo_plano": plan_code(w),
    }
    line.update(overrides)
    return line


def child_line(holder_cpf: str, name: str = "PEDRO LOTE TESTE") -> dict[str, Any]:
    return {
        "tipo_movimento": "INCLUSAO",
        "nome": name,
        "data_nascimento": "10/05/2016",
        "sexo": "M",
        "nome_mae": "MARIANA LOTE TESTE",
        "parentesco": "4",
        "cpf_titular": holder_cpf,
    }


def exclusion_line(card: str) -> dict[str, Any]:
    return {"tipo_movimento": "EXCLUSAO", "carteirinha": card, "motivo_exclusao": "pedido"}


def receive(w: World, content: bytes, name: str = "lote.xlsx") -> BatchCheck:
    return batch_receive(uow=w.uow(), actor=w.master, file_name=name, content=content, now=NOW)


def statuses(check: BatchCheck) -> list[str]:
    return [line.status for line in check.lines]


def count(w: World, model: Any, *where: Any) -> int:
    with w.factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


# ---------------------------------------------------------------- check and apply


def test_a_holder_its_dependent_an_invalid_line_and_an_exclusion_get_their_statuses(world: World):
    w = world
    excluded = w.holder(dependents=False)
    holder_cpf = new_cpf()
    check = receive(
        w,
        xlsx(
            [
                holder_line(w, holder_cpf),
                child_line(holder_cpf),
                holder_line(w, "12345678900", nome="LINHA INVALIDA"),
                exclusion_line(excluded.card_number),
            ]
        ),
    )
    assert statuses(check) == ["accepted", "accepted", "refused", "accepted"]
    assert [line.line_number for line in check.lines] == [2, 3, 4, 5]
    assert "CPF inválido" in check.lines[2].message
    assert check.lines[2].field == "cpf"
    b = check.batch
    assert (b.status, b.total_lines, b.accepted_lines, b.refused_lines) == ("received", 4, 3, 1)
    assert check.duplicate_of is None

    before = w.snapshot()
    progress: list[tuple[int, int]] = []
    result = batch_apply(
        uow=w.uow(),
        actor=w.master,
        batch_id=b.id,
        now=NOW,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert (result.applied, result.refused) == (3, 1)
    assert result.batch.status == "done_with_refusals"
    assert result.batch.status_label == "Concluído com recusas"
    assert progress[-1] == (3, 3)
    changed = delta(before, w.snapshot())
    assert changed["beneficiary"] == 2
    assert changed["movement"] == 3 and changed["protocol"] == 3

    with w.factory() as s:
        holder = s.scalars(select(Beneficiary).where(Beneficiary.cpf == holder_cpf)).one()
        child = s.scalars(select(Beneficiary).where(Beneficiary.holder_id == holder.id)).one()
        assert (holder.status, child.status, child.relationship_code) == ("active", "active", 4)
        assert (holder.birth_date, holder.admission_date) == (date(1985, 3, 15), date(2024, 1, 2))
        assert holder.effective_date == TODAY  # data_vigencia empty: today
        assert child.cep == holder.cep  # a dependent without an address takes the holder's
        assert s.get(Beneficiary, excluded.id).status == "inactive"
        channels = set(s.scalars(select(Movement.channel).where(Movement.received_at == NOW)))
        assert channels == {Channel.BATCH.value}

    lines = batch_lines(uow=w.uow(), actor=w.master, batch_id=b.id)
    assert [line.status for line in lines] == ["applied", "applied", "refused", "applied"]
    assert lines[0].message.startswith("Protocolo ")
    assert format_card_number(holder.card_number) in lines[0].message  # groups of four
    assert "CPF inválido" in lines[2].message
    listed = batch_list(uow=w.uow(), actor=w.master)
    assert listed[0].id == b.id and listed[0].accepted_lines == 3

    result_xlsx = load_workbook(
        io.BytesIO(batch_result_file(uow=w.uow(), actor=w.master, batch_id=b.id))
    ).active
    header = [c.value for c in result_xlsx[1]]
    # The last column: each applied inclusion's waiting periods (admission in 2024, so
    # no RN 195 exemption; the contract's default periods from the effective date).
    assert header[-3:] == ["status", "mensagem", "Carência"]
    rows = list(result_xlsx.iter_rows(min_row=2, values_only=True))
    assert [r[-3] for r in rows] == ["Aplicada", "Aplicada", "Recusada", "Aplicada"]
    expected = waiting_summary(holder.waiting_periods)
    assert expected.startswith("Urgência até 26/11/2026; ") and "Ortodontia" in expected
    assert [r[-1] or "" for r in rows] == [expected, expected, "", ""]
    as_csv = batch_result_file(uow=w.uow(), actor=w.master, batch_id=b.id, fmt="csv")
    text = as_csv.decode("utf-8-sig")
    assert "Recusada" in text and ";Carência" in text and expected in text
    assert [line.waiting for line in lines] == [expected, expected, "", ""]


def test_receiving_a_file_checks_every_line_and_writes_no_movement(world: World):
    w = world
    before = w.snapshot()
    check = receive(w, csv_file([holder_line(w), holder_line(w)]), "lote.csv")
    assert statuses(check) == ["accepted", "accepted"]
    assert delta(before, w.snapshot()) == {"audit_record": 1}  # the receipt, nothing else
    assert count(w, BatchFile) == 1


def test_a_refused_line_changes_nothing(world: World):
    w = world
    good, taken = holder_line(w), w.holder()
    check = receive(w, xlsx([holder_line(w, taken.cpf), good, holder_line(w, "111")]))
    assert statuses(check) == ["refused", "accepted", "refused"]
    before = w.snapshot()
    result = batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW)
    assert (result.applied, result.refused) == (1, 2)
    # Exactly one inclusion (1 beneficiary, movement, protocol with 2 events, audit) and the
    # audit of the batch itself: the refused lines wrote nothing.
    assert delta(before, w.snapshot()) == {
        "beneficiary": 1,
        "coverage_period": 1,
        "movement": 1,
        "protocol": 1,
        "protocol_event": 2,
        "audit_record": 2,
        "counter": 1,  # the first protocol sequence of the day
    }
    assert count(w, Beneficiary, Beneficiary.cpf == taken.cpf) == 1


def test_a_file_whose_every_line_is_refused_applies_nothing(world: World):
    w = world
    check = receive(w, xlsx([holder_line(w, "12345678900")]))
    assert check.batch.accepted_lines == 0
    before = w.snapshot()
    result = batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW)
    assert (result.applied, result.refused) == (0, 1)
    assert delta(before, w.snapshot()) == {"audit_record": 1}


def _individual_refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    exc = caught.value
    return "; ".join(exc.errors.values()) if isinstance(exc, FieldErrors) else exc.message


def test_lines_are_refused_with_the_same_messages_as_the_individual_form(world: World):
    w = world
    active = w.holder()
    inactive = w.holder(status="inactive")
    cases = [
        (
            holder_line(w, "12345678900"),
            lambda: movement_apply(
                uow=w.uow(),
                actor=w.master,
                request=InclusionRequest(holder_person(cpf="12345678900"), plan_id=1),
                now=NOW,
            ),
        ),
        (
            holder_line(w, active.cpf),
            lambda: movement_apply(
                uow=w.uow(),
                actor=w.master,
                request=InclusionRequest(holder_person(cpf=active.cpf), plan_id=1),
                now=NOW,
            ),
        ),
        (
            exclusion_line(inactive.card_number),
            lambda: movement_apply(
                uow=w.uow(),
                actor=w.master,
                request=ExclusionRequest(
                    card_number=inactive.card_number, reason="pedido", effective_date=None
                ),
                now=NOW,
            ),
        ),
    ]
    check = receive(w, xlsx([line for line, _ in cases]))
    assert statuses(check) == ["refused"] * len(cases)
    for line, (_, individual) in zip(check.lines, cases, strict=True):
        message = _individual_refusal(individual)
        assert message and message in line.message, (message, line.message)
    assert CPF_TAKEN in check.lines[1].message


def test_the_same_file_sent_again_is_flagged_as_a_duplicate(world: World):
    w = world
    content = xlsx([holder_line(w)])
    first = receive(w, content)
    assert first.duplicate_of is None
    second = receive(w, content, "outro_nome.xlsx")
    assert second.duplicate_of is not None
    assert second.duplicate_of.id == first.batch.id
    assert second.duplicate_of.received_at == first.batch.received_at
    assert second.duplicate_of.status_label == "Recebido"
    other = receive(w, xlsx([holder_line(w)]))
    assert other.duplicate_of is None


def test_a_file_refused_as_a_whole_is_recorded_and_has_no_result_file(world: World):
    w = world
    before = w.snapshot()
    with pytest.raises(BatchFileError) as caught:
        receive(w, b"tipo_movimento;cpf\n", "lote.txt")
    assert "Formato de arquivo não aceito" in caught.value.message
    assert delta(before, w.snapshot()) == {}
    (refused,) = batch_list(uow=w.uow(), actor=w.master)
    assert (refused.status, refused.message) == ("refused", caught.value.message)
    with pytest.raises(DomainError, match="recusado"):
        batch_result_file(uow=w.uow(), actor=w.master, batch_id=refused.id)
    with pytest.raises(DomainError, match="já foi processado"):
        batch_apply(uow=w.uow(), actor=w.master, batch_id=refused.id, now=NOW)


class Interrupted(Exception):
    pass


def test_an_interrupted_batch_resumes_without_applying_a_line_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    w = world
    monkeypatch.setattr(services.batch.processing, "CHUNK", 2)
    holders = [new_cpf() for _ in range(4)]
    rows = [holder_line(w, cpf) for cpf in holders]
    rows.append(child_line(holders[0]))  # its holder is applied before the interruption
    rows.append(child_line(holders[3], "JOANA LOTE TESTE"))  # and this one's after it
    excluded = w.holder(dependents=False)
    rows.append(exclusion_line(excluded.card_number))
    check = receive(w, xlsx(rows))
    assert check.batch.accepted_lines == 7
    benefs, protocols = count(w, Beneficiary), count(w, Protocol)

    def stop_after_first_chunk(done: int, total: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        batch_apply(
            uow=w.uow(),
            actor=w.master,
            batch_id=check.batch.id,
            now=NOW,
            progress=stop_after_first_chunk,
        )
    (interrupted,) = batch_list(uow=w.uow(), actor=w.master)
    assert interrupted.status == "applying"
    lines = batch_lines(uow=w.uow(), actor=w.master, batch_id=check.batch.id)
    assert [line.status for line in lines] == ["applied"] * 2 + ["accepted"] * 5
    assert count(w, Beneficiary) == benefs + 2

    result = batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW)
    assert (result.applied, result.refused) == (7, 0)
    assert result.batch.status == "done"
    lines = batch_lines(uow=w.uow(), actor=w.master, batch_id=check.batch.id)
    assert {line.status for line in lines} == {"applied"}
    assert count(w, Beneficiary) == benefs + 6  # every inclusion line exactly once
    assert count(w, Protocol) == protocols + 7
    for cpf in holders:
        assert count(w, Beneficiary, Beneficiary.cpf == cpf) == 1
    with pytest.raises(DomainError, match="já foi processado"):
        batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW)


def test_batches_are_seen_only_by_their_company_and_need_the_movements_permission(world: World):
    w = world
    check = receive(w, xlsx([holder_line(w)]))
    assert batch_list(uow=w.uow("10002"), actor=w.master) == []
    with pytest.raises(DomainError, match="Lote não encontrado"):
        batch_lines(uow=w.uow("10002"), actor=w.master, batch_id=check.batch.id)
    with pytest.raises(DomainError, match="Lote não encontrado"):
        batch_apply(uow=w.uow("10002"), actor=w.master, batch_id=check.batch.id, now=NOW)
    outsider = w.uow("10005")
    with pytest.raises(DomainError, match="não tem acesso"):
        batch_list(uow=outsider, actor=w.master)


def test_the_received_batch_keeps_the_check_date_and_sender(world: World):
    w = world
    check = receive(w, xlsx([holder_line(w)]))
    (listed,) = batch_list(uow=w.uow(), actor=w.master)
    assert listed.received_at == NOW
    assert listed.user_name == check.batch.user_name != ""
    assert listed.received_at.date() == date(2026, 11, 26)


def test_two_applications_of_the_same_batch_at_once_never_apply_a_line_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    w = world
    monkeypatch.setattr(services.batch.processing, "CHUNK", 2)
    cpfs = [new_cpf() for _ in range(6)]
    check = receive(w, xlsx([holder_line(w, cpf) for cpf in cpfs]))
    benefs, protocols = count(w, Beneficiary), count(w, Protocol)
    other: list[Any] = []

    def meanwhile(done: int, total: int) -> None:
        if not other:  # another tab resumes the batch while this one is half way
            other.append(batch_apply(uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW))

    with pytest.raises(DomainError, match="sendo aplicado em outra sessão"):
        batch_apply(
            uow=w.uow(), actor=w.master, batch_id=check.batch.id, now=NOW, progress=meanwhile
        )
    assert (other[0].applied, other[0].refused) == (6, 0)
    assert count(w, Beneficiary) == benefs + 6
    assert count(w, Protocol) == protocols + 6
    (listed,) = batch_list(uow=w.uow(), actor=w.master)
    assert listed.status == "done"
