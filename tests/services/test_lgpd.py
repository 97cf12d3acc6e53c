"""LGPD: the record of who saw a beneficiary's personal data, and the access request."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from components.dossier_files import dossier_json, dossier_xlsx
from data.db import make_session_factory
from data.models import Beneficiary, CoveragePeriod, Movement, PersonalDataAccess
from data.uow import UnitOfWork
from demo.generator import seed_demo
from services import lgpd
from services.access import accounts as access
from services.actors import Actor
from services.movements import service as movements
from services.reports import beneficiaries as reports
from services.rules.errors import DomainError

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def factory(engine: Engine):  # noqa: ANN201
    seed_demo(engine, companies=3, beneficiaries=90, today=TODAY, utilization_per_beneficiary=1)
    return make_session_factory(engine)


def _actor(factory, code: str) -> Actor:  # noqa: ANN001
    actor = access.actor_for_user(uow=UnitOfWork(factory), user_code=code, now=NOW)
    assert actor is not None
    return actor


def _holder_with_history(factory) -> Beneficiary:  # noqa: ANN001
    with factory() as s:
        return s.scalars(
            select(Beneficiary)
            .join(Movement, Movement.beneficiary_id == Beneficiary.id)
            .where(
                Beneficiary.company_id == 1,
                Beneficiary.cpf.is_not(None),
                Movement.protocol_id.is_not(None),
            )
            .order_by(Beneficiary.id)
        ).first()


def _accesses(factory) -> list[PersonalDataAccess]:  # noqa: ANN001
    with factory() as s:
        return list(s.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id)))


def test_viewing_a_beneficiary_is_recorded_once_per_visit(factory) -> None:  # noqa: ANN001
    b = _holder_with_history(factory)
    user = _actor(factory, "100002")
    for minute in (0, 1, 5):  # the screen redrawn while the user works on it
        movements.beneficiary_detail(
            uow=UnitOfWork(factory, 1),
            actor=user,
            card_number=b.card_number,
            now=NOW + timedelta(minutes=minute),
        )
    movements.beneficiary_detail(
        uow=UnitOfWork(factory, 1),
        actor=user,
        card_number=b.card_number,
        now=NOW + timedelta(minutes=30),
    )
    rows = _accesses(factory)
    assert [(r.user_id, r.beneficiary_id, r.purpose) for r in rows] == [
        (user.user_id, b.id, "consulta")
    ] * 2
    assert rows[1].at - rows[0].at == timedelta(minutes=30)


def test_a_report_with_personal_data_is_recorded_as_a_listing(factory) -> None:  # noqa: ANN001
    manager = _actor(factory, "900001")  # holds the personal data permission
    user = _actor(factory, "100002")  # does not: masked, nothing to record
    filters = reports.BeneficiaryFilters()
    reports.beneficiary_report(
        uow=UnitOfWork(factory, 1), actor=user, status="active", filters=filters, today=TODAY
    )
    assert _accesses(factory) == []
    report = reports.beneficiary_report(
        uow=UnitOfWork(factory, 1), actor=manager, status="active", filters=filters, today=TODAY
    )
    (row,) = _accesses(factory)
    assert (row.user_id, row.company_id, row.beneficiary_id, row.purpose) == (
        manager.user_id,
        1,
        None,
        "listagem",
    )
    assert f"{report.total} linha(s)" in row.detail


def test_the_account_manager_gets_everything_held_and_who_saw_it(factory) -> None:  # noqa: ANN001
    b = _holder_with_history(factory)
    user = _actor(factory, "100002")
    movements.beneficiary_detail(
        uow=UnitOfWork(factory, 1), actor=user, card_number=b.card_number, now=NOW
    )
    manager = _actor(factory, "900001")
    dossier = lgpd.beneficiary_dossier(
        uow=UnitOfWork(factory).for_company(1),
        actor=manager,
        term=b.cpf,
        now=NOW + timedelta(minutes=1),
    )
    assert dossier.beneficiary_id == b.id and dossier.name == b.name
    person = dossier.sections["Cadastro"][0]
    assert person["name"] == b.name and person["birth_date"] == b.birth_date.isoformat()
    assert person["cpf"].replace(".", "").replace("-", "") == b.cpf
    with factory() as s:
        moves = s.scalar(select(func.count()).where(Movement.beneficiary_id == b.id))
    assert len(dossier.sections["Movimentações"]) == moves >= 1
    assert len(dossier.sections["Protocolos"]) >= 1
    assert {"Vínculos", "Faturamento", "Utilização", "Auditoria"} <= set(dossier.sections)
    with factory() as s:
        periods = s.scalar(select(func.count()).where(CoveragePeriod.beneficiary_id == b.id))
    assert len(dossier.sections["Cobertura"]) == periods >= 1  # who covered it, when
    (seen,) = [a for a in dossier.accesses if a.direct]
    assert (seen.user_code, seen.purpose_label) == ("100002", "Consulta do cadastro")
    # The request itself is recorded.
    assert _accesses(factory)[-1].purpose == "lgpd"

    # By card number too; the files carry every section and the accesses.
    again = lgpd.beneficiary_dossier(
        uow=UnitOfWork(factory).for_company(1),
        actor=manager,
        term=b.card_number,
        now=NOW + timedelta(minutes=2),
    )
    assert again.beneficiary_id == b.id
    document = json.loads(dossier_json(dossier))
    assert document["titular"] == b.name and document["Acessos aos dados"]
    assert "art. 18" in document["base_legal"]
    import io

    wb = load_workbook(io.BytesIO(dossier_xlsx(dossier)))
    assert wb.sheetnames == [*dossier.sections, "Acessos aos dados"]


def test_only_account_managers_of_the_company_answer_access_requests(factory) -> None:  # noqa: ANN001
    b = _holder_with_history(factory)
    before = len(_accesses(factory))
    for code in ("100001", "100002"):  # master and user of the company
        with pytest.raises(DomainError, match="gestor de contas"):
            lgpd.beneficiary_dossier(
                uow=UnitOfWork(factory).for_company(1),
                actor=_actor(factory, code),
                term=b.cpf,
                now=NOW,
            )
    manager = _actor(factory, "900001")
    with pytest.raises(DomainError, match="Nenhum beneficiário desta empresa"):
        lgpd.beneficiary_dossier(
            uow=UnitOfWork(factory).for_company(2), actor=manager, term=b.cpf, now=NOW
        )  # another company: not found there
    with pytest.raises(DomainError, match="CPF .* ou o número da carteirinha"):
        lgpd.beneficiary_dossier(
            uow=UnitOfWork(factory).for_company(1), actor=manager, term="123", now=NOW
        )
    outsider = Actor(
        manager.user_id, "900001", "x", manager.role, manager.permissions, frozenset({2})
    )
    with pytest.raises(DomainError, match="não tem acesso a esta empresa"):
        lgpd.beneficiary_dossier(
            uow=UnitOfWork(factory).for_company(1), actor=outsider, term=b.cpf, now=NOW
        )
    assert len(_accesses(factory)) == before
