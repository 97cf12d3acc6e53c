"""Pure rules of beneficiary movements: registers, effective dates, dependents, plans, stays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from services.rules.eligibility import Relationship
from services.rules.errors import DomainError, FieldErrors
from services.rules.movements import (
    MAX_FUTURE_DAYS,
    Channel,
    HolderView,
    MovementKind,
    PersonData,
    changed_fields,
    check_dependent_link,
    check_effective_date,
    check_exclusion_reason,
    check_plan_contracted,
    check_transfer_plan,
    clean_person,
    invoice_effect,
    may_opt_for_stay,
    merge_update,
    movement_channel,
    stay_until,
)

TODAY = date(2026, 11, 26)
CONTRACT_START = date(2020, 6, 1)
HOLDER = PersonData(
    name="  ana   beatriz souza ",
    cpf="529.982.247-25",
    birth_date=date(1990, 5, 17),
    sex="f",
    mother_name="Maria Helena Souza",
    marital_status="Casado(a)",
    email=" Ana.Souza@Example.COM.br ",
    phone="(11) 98765-4321",
    cep="01310-100",
    street="Avenida  Paulista",
    number="1000",
    neighbourhood="Bela Vista",
    municipality="São Paulo",
    state="sp",
    admission_date=date(2026, 11, 2),
)
CHILD = PersonData(
    name="Pedro Souza", birth_date=date(2016, 3, 10), sex="M", mother_name="Ana Beatriz Souza"
)
ELIGIBILITY = {
    "3": {"allowed": True, "max_age": None, "student_max_age": None},
    "4": {"allowed": True, "max_age": 21, "student_max_age": 24},
    "6": {"allowed": True, "max_age": 21, "student_max_age": 24},
    "8": {"allowed": False, "max_age": None, "student_max_age": None},
}


def _clean(person: PersonData, relationship: int = 1, **kwargs: Any) -> PersonData:
    return clean_person(person, relationship=relationship, today=TODAY, **kwargs)


def _errors(person: PersonData, relationship: int = 1, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(FieldErrors) as info:
        _clean(person, relationship, **kwargs)
    assert all(info.value.errors.values())
    return info.value.errors


# ---------------------------------------------------------------- registers


def test_a_register_is_normalised():
    p = _clean(HOLDER)
    # names as typed: trimmed and inner spaces collapsed, never upper-cased
    assert (p.name, p.mother_name) == ("ana beatriz souza", "Maria Helena Souza")
    assert (p.cpf, p.cep, p.phone, p.email) == (
        "52998224725",
        "01310100",
        "11987654321",
        "ana.souza@example.com.br",
    )
    assert (p.sex, p.state, p.street) == ("F", "SP", "Avenida Paulista")
    assert p.admission_date == date(2026, 11, 2)


def test_cleaning_a_clean_register_changes_nothing():
    once = _clean(HOLDER)
    assert _clean(once) == once
    assert changed_fields(once, _clean(once)) == {}


def test_a_dependent_without_an_address_takes_the_holders():
    holder = _clean(HOLDER)
    child = _clean(CHILD, 4, holder_address=holder)
    assert (child.cep, child.street, child.municipality, child.state) == (
        holder.cep,
        holder.street,
        holder.municipality,
        holder.state,
    )
    assert child.cpf is None and child.admission_date is None


def test_a_dependent_with_its_own_address_keeps_it():
    own = replace(CHILD, cep="13010-000", municipality="Campinas", state="SP")
    child = _clean(own, 4, holder_address=_clean(HOLDER))
    assert (child.cep, child.municipality) == ("13010000", "Campinas")


@pytest.mark.parametrize(
    ("relationship", "birth", "required"),
    [
        (1, date(1990, 1, 1), True),
        (1, date(2010, 1, 1), True),  # a holder always needs one
        (4, date(2008, 11, 26), True),  # 18 today
        (4, date(2008, 11, 27), False),  # 18 tomorrow
        (3, date(1990, 1, 1), True),
    ],
)
def test_cpf_is_required_for_holders_and_adult_dependents(relationship, birth, required):
    person = replace(HOLDER if relationship == 1 else CHILD, cpf=None, birth_date=birth)
    if required:
        assert set(_errors(person, relationship, holder_address=_clean(HOLDER))) == {"cpf"}
    else:
        assert _clean(person, relationship, holder_address=_clean(HOLDER)).cpf is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cpf": "529.982.247-24"}, "cpf"),
        ({"cpf": "111.111.111-11"}, "cpf"),
        ({"cpf": "5299822472"}, "cpf"),
        ({"name": "Ana"}, "name"),
        ({"name": "Ana Souza 2"}, "name"),
        ({"name": "A " + "B" * 199}, "name"),
        ({"mother_name": ""}, "mother_name"),
        ({"birth_date": None}, "birth_date"),
        ({"birth_date": TODAY + timedelta(days=1)}, "birth_date"),
        ({"birth_date": date(1905, 11, 25)}, "birth_date"),
        ({"sex": "X"}, "sex"),
        ({"sex": ""}, "sex"),
        ({"cns": "700000000000006"}, "cns"),
        ({"email": "ana@"}, "email"),
        ({"phone": "98765432"}, "phone"),
        ({"marital_status": "Enrolado(a)"}, "marital_status"),
        ({"cep": "0131010"}, "cep"),
        ({"cep": "00000000"}, "cep"),
        ({"cep": None}, "cep"),
        ({"municipality": "  "}, "municipality"),
        ({"state": "XX"}, "state"),
        ({"admission_date": None}, "admission_date"),
        ({"admission_date": TODAY + timedelta(days=MAX_FUTURE_DAYS + 1)}, "admission_date"),
        ({"street": "R" * 201}, "street"),
        ({"number": "1" * 21}, "number"),
        ({"complement": "C" * 101}, "complement"),
        ({"neighbourhood": "B" * 101}, "neighbourhood"),
        ({"municipality": "M" * 101}, "municipality"),
        ({"street": "Rua\x00Um"}, "street"),
        ({"complement": "Apto \x1b[1m"}, "complement"),
        ({"neighbourhood": "Centro\u200b"}, "neighbourhood"),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, dict) else v,
)
def test_each_problem_of_a_register_names_its_field(changes: dict[str, Any], field: str):
    assert set(_errors(replace(HOLDER, **changes))) == {field}


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "A " + "B" * 198},  # 200 characters
        {"street": "R" * 200, "number": "1" * 20, "complement": "C" * 100},
        {"neighbourhood": "B" * 100, "municipality": "São José dos Campos"},
        {"birth_date": date(1906, 11, 26)},  # 120 today
        {"admission_date": TODAY + timedelta(days=MAX_FUTURE_DAYS)},
        {"email": None, "phone": None, "cns": None, "marital_status": None},
    ],
    ids=["name 200", "long address", "neighbourhood 100", "120 years", "admission", "optional"],
)
def test_registers_at_the_limits_are_accepted(changes: dict[str, Any]):
    assert _clean(replace(HOLDER, **changes)).name


def test_every_problem_is_reported_at_once():
    bad = replace(HOLDER, name="", cpf="123", sex="", cep=None, state="", admission_date=None)
    assert set(_errors(bad)) == {"name", "cpf", "sex", "cep", "state", "admission_date"}


# ---------------------------------------------------------------- effective dates


def _effective(kind, channel, effective, **kwargs):
    return check_effective_date(
        kind=kind,
        channel=channel,
        effective=effective,
        today=TODAY,
        retroactive_months=kwargs.get("months", 3),
        contract_start=kwargs.get("start", CONTRACT_START),
    )


@pytest.mark.parametrize("kind", list(MovementKind))
@pytest.mark.parametrize("channel", [Channel.INDIVIDUAL, Channel.BATCH])
@pytest.mark.parametrize(
    ("effective", "expected"),
    [
        (None, TODAY),
        (TODAY, TODAY),
        (TODAY + timedelta(days=MAX_FUTURE_DAYS), TODAY + timedelta(days=MAX_FUTURE_DAYS)),
    ],
)
def test_individual_and_batch_dates_run_from_today_to_60_days_ahead(
    kind, channel, effective, expected
):
    assert _effective(kind, channel, effective) == expected


@pytest.mark.parametrize("kind", list(MovementKind))
@pytest.mark.parametrize(
    "effective", [TODAY - timedelta(days=1), TODAY + timedelta(days=MAX_FUTURE_DAYS + 1)]
)
def test_individual_dates_outside_the_window_are_refused(kind, effective):
    with pytest.raises(DomainError) as info:
        _effective(kind, Channel.INDIVIDUAL, effective)
    assert info.value.field == "effective_date"


def test_a_past_exclusion_says_it_cannot_be_retroactive():
    with pytest.raises(DomainError) as info:
        _effective(MovementKind.EXCLUSION, Channel.INDIVIDUAL, TODAY - timedelta(days=1))
    assert "retroativa" in info.value.message and "561" in info.value.message


@pytest.mark.parametrize(
    "kind", [MovementKind.INCLUSION, MovementKind.PLAN_CHANGE, MovementKind.REACTIVATION]
)
@pytest.mark.parametrize("effective", [date(2026, 11, 1), date(2026, 10, 1), date(2026, 9, 1)])
def test_retroactive_dates_are_the_first_days_of_this_month_and_the_two_before(kind, effective):
    assert _effective(kind, Channel.RETROACTIVE, effective) == effective


@pytest.mark.parametrize(
    "effective",
    [date(2026, 8, 1), date(2026, 10, 15), date(2026, 12, 1), TODAY, None],
)
def test_other_retroactive_dates_are_refused_listing_the_allowed_ones(effective):
    with pytest.raises(DomainError) as info:
        _effective(MovementKind.INCLUSION, Channel.RETROACTIVE, effective)
    assert info.value.field == "effective_date"
    assert "01/09/2026" in info.value.message


@pytest.mark.parametrize(
    "kind", [MovementKind.EXCLUSION, MovementKind.UPDATE, MovementKind.TRANSFER]
)
def test_only_inclusion_plan_change_and_reactivation_may_be_retroactive(kind):
    with pytest.raises(DomainError) as info:
        _effective(kind, Channel.RETROACTIVE, date(2026, 11, 1))
    assert info.value.field == "effective_date"


def test_the_number_of_retroactive_months_is_the_contracts():
    assert _effective(MovementKind.INCLUSION, Channel.RETROACTIVE, date(2026, 8, 1), months=4)
    with pytest.raises(DomainError):
        _effective(MovementKind.INCLUSION, Channel.RETROACTIVE, date(2026, 10, 1), months=1)


def test_no_date_before_the_contract_start():
    with pytest.raises(DomainError) as info:
        _effective(
            MovementKind.INCLUSION, Channel.RETROACTIVE, date(2026, 9, 1), start=date(2026, 10, 1)
        )
    assert info.value.field == "effective_date"


# ---------------------------------------------------------------- dependents


def _holder(**kwargs: Any) -> HolderView:
    data: dict[str, Any] = {
        "id": 1,
        "card_number": "0001000000000014",
        "name": "ANA SOUZA",
        "status": "active",
        "plan_id": 2,
        "company_id": 10,
        "has_active_spouse": False,
    }
    data.update(kwargs)
    return HolderView(**data)


def _link(holder: HolderView | None, relationship: int = 4, age: int = 10, student=False):
    check_dependent_link(
        relationship=relationship,
        holder=holder,
        company_id=10,
        birth_date=date(TODAY.year - age, 1, 1),
        is_student=student,
        eligibility=ELIGIBILITY,
        on=TODAY,
    )


@pytest.mark.parametrize(
    ("holder", "relationship", "age", "student", "field"),
    [
        (None, 4, 10, False, "holder"),
        (_holder(company_id=11), 4, 10, False, "holder"),
        (_holder(status="inactive"), 4, 10, False, "holder"),
        (_holder(has_active_spouse=True), 3, 40, False, "relationship_code"),
        (_holder(), 8, 60, False, "relationship_code"),  # parents not admitted here
        (_holder(), 10, 30, False, "relationship_code"),  # absent from the table
        (_holder(), 1, 30, False, "relationship_code"),
        (_holder(), 4, 22, False, "birth_date"),
        (_holder(), 4, 25, True, "birth_date"),
    ],
    ids=[
        "no holder",
        "holder of another company",
        "inactive holder",
        "second spouse",
        "parent not admitted",
        "relationship not in the table",
        "holder code for a dependent",
        "child aged 22 not a student",
        "student aged 25",
    ],
)
def test_a_dependent_link_is_refused_naming_the_field(holder, relationship, age, student, field):
    with pytest.raises(DomainError) as info:
        _link(holder, relationship, age, student)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("relationship", "age", "student"),
    [(3, 80, False), (4, 0, False), (4, 21, False), (4, 24, True), (6, 5, False)],
)
def test_a_dependent_within_the_table_is_accepted(relationship, age, student):
    _link(_holder(), relationship, age, student)


def test_a_new_spouse_is_accepted_when_there_is_none():
    _link(_holder(has_active_spouse=False), 3, 40)


# ---------------------------------------------------------------- plans, reasons, stays


def test_only_a_contracted_plan_is_accepted():
    contracted = {1: "Sorriso Essencial", 2: "Sorriso Plus"}
    assert check_plan_contracted(2, contracted) == 2
    for plan in (None, 4):
        with pytest.raises(DomainError) as info:
            check_plan_contracted(plan, contracted)
        assert info.value.field == "plan"
        assert "Sorriso Essencial, Sorriso Plus" in info.value.message


def test_an_exclusion_needs_a_listed_reason():
    assert check_exclusion_reason("demissao") == "demissao"
    with pytest.raises(DomainError) as info:
        check_exclusion_reason("ferias")
    assert info.value.field == "reason"


@pytest.mark.parametrize(
    ("reason", "contributed", "months", "expected"),
    [
        ("demissao", True, 36, (12, date(2027, 11, 26))),
        ("demissao", True, 1, (6, date(2027, 5, 26))),
        ("demissao", True, 100, (24, date(2028, 11, 26))),
        ("demissao", True, 0, (0, None)),
        ("demissao", False, 36, (0, None)),
        ("aposentadoria", True, 119, (108, date(2035, 11, 26))),
        ("aposentadoria", True, 120, (None, None)),
        ("aposentadoria", True, 11, (0, None)),
        ("pedido", True, 36, (0, None)),
        ("obito", True, 36, (0, None)),
    ],
)
def test_the_stay_of_dismissed_and_retired_holders(reason, contributed, months, expected):
    assert stay_until(reason, contributed, months, TODAY) == expected


def test_a_stay_ending_in_a_shorter_month_ends_on_its_last_day():
    assert stay_until("demissao", True, 36, date(2026, 8, 31)) == (12, date(2027, 8, 31))
    assert stay_until("demissao", True, 18, date(2026, 8, 31)) == (6, date(2027, 2, 28))


def test_a_negative_contribution_time_is_refused():
    with pytest.raises(DomainError) as info:
        stay_until("demissao", True, -1, TODAY)
    assert info.value.field == "contribution_months"


# ---------------------------------------------------------------- updates


def test_an_update_merges_only_updatable_fields():
    merged = merge_update(CHILD, {"name": "Pedro Lima", "is_student": True})
    assert (merged.name, merged.is_student, merged.birth_date) == (
        "Pedro Lima",
        True,
        CHILD.birth_date,
    )
    with pytest.raises(DomainError) as info:
        merge_update(CHILD, {"plan_id": 3, "card_number": "1"})
    assert "card_number" in info.value.message and "plan_id" in info.value.message


def test_changed_fields_lists_before_and_after():
    after = replace(CHILD, name="Pedro Lima", is_student=True)
    assert changed_fields(CHILD, after) == {
        "name": ("Pedro Souza", "Pedro Lima"),
        "is_student": (False, True),
    }
    assert changed_fields(CHILD, CHILD) == {}


# ---------------------------------------------------------------- empty registers, plans


def test_the_error_summary_lists_each_problem_once_without_doubled_punctuation():
    exc = FieldErrors(
        {"a": "Informe o CEP.", "b": "Informe o CEP.", "c": "Escolha o plano;", "d": "UF: "}
    )
    assert exc.message == "Corrija os campos indicados: Informe o CEP; Escolha o plano; UF."


def test_an_empty_holder_register_names_every_required_field_the_cpf_too():
    errors = _errors(PersonData(), 1)
    assert set(errors) == {
        "name",
        "cpf",
        "birth_date",
        "sex",
        "mother_name",
        "cep",
        "municipality",
        "state",
        "admission_date",
    }
    # A holder needs a CPF whatever the (missing) birth date.
    assert errors["cpf"] == "CPF é obrigatório para titulares (SIB/ANS)."


def test_an_empty_dependent_register_asks_for_the_birth_date_not_yet_the_cpf():
    errors = _errors(PersonData(), 4, holder_address=_clean(HOLDER))
    assert set(errors) == {"name", "birth_date", "sex", "mother_name"}


def test_no_plan_chosen_asks_to_choose_one():
    with pytest.raises(DomainError) as info:
        check_plan_contracted(None, {1: "Sorriso Essencial"})
    assert info.value.field == "plan"
    assert info.value.message.startswith("Escolha o plano.")


TARGET_PLANS = {2: "Sorriso Plus", 3: "Sorriso Orto"}


def test_a_transfer_keeps_a_plan_the_destination_contracts():
    assert check_transfer_plan(2, "Sorriso Plus", "10002 (Horizonte)", TARGET_PLANS) == 2


def test_a_transfer_to_a_plan_the_destination_does_not_contract_names_the_plan_field():
    with pytest.raises(DomainError) as info:
        check_transfer_plan(1, "Sorriso Essencial", "10002 (Horizonte)", TARGET_PLANS)
    assert info.value.field == "plan"
    assert info.value.message == (
        "O plano Sorriso Essencial não é contratado pela empresa 10002 (Horizonte): escolha "
        "um dos planos dela (Sorriso Orto ou Sorriso Plus)."
    )


def test_a_transfer_to_a_company_without_plans_names_the_destination():
    with pytest.raises(DomainError) as info:
        check_transfer_plan(1, "Sorriso Essencial", "10002 (Horizonte)", {})
    assert info.value.field == "target_company"


# ---------------------------------------------------------------- what it does to the invoice

JAN = date(2027, 1, 1)  # the billing month of a movement received on 26/11/2026


@pytest.mark.parametrize(
    ("kind", "effective", "billing", "expected"),
    [
        (
            MovementKind.INCLUSION,
            date(2026, 11, 26),
            JAN,
            "A fatura de 01/2027 cobra a mensalidade e, como retroativo, 2 meses "
            "(11/2026 a 12/2026).",
        ),
        (
            MovementKind.REACTIVATION,
            date(2026, 12, 1),
            JAN,
            "A fatura de 01/2027 cobra a mensalidade e, como retroativo, 1 mês (12/2026).",
        ),
        (MovementKind.INCLUSION, date(2027, 1, 10), JAN, "Cobrança a partir da fatura de 01/2027."),
        (MovementKind.INCLUSION, date(2027, 2, 1), JAN, "Cobrança a partir da fatura de 02/2027."),
        (
            MovementKind.PLAN_CHANGE,
            date(2026, 9, 1),
            JAN,
            "A fatura de 01/2027 cobra o novo plano e, como diferença entre os planos, 4 meses "
            "(09/2026 a 12/2026).",
        ),
        (
            MovementKind.PLAN_CHANGE,
            date(2027, 1, 5),
            JAN,
            "Novo plano cobrado a partir da fatura de 01/2027.",
        ),
        # charged for every month that starts before the exclusion date
        (
            MovementKind.EXCLUSION,
            date(2026, 11, 26),
            JAN,
            "Sem cobrança a partir da competência 12/2026; se ela já foi faturada, o valor volta "
            "como crédito na próxima fatura.",
        ),
        (
            MovementKind.EXCLUSION,
            date(2026, 12, 1),
            JAN,
            "Sem cobrança a partir da competência 12/2026; se ela já foi faturada, o valor volta "
            "como crédito na próxima fatura.",
        ),
        (
            MovementKind.EXCLUSION,
            date(2026, 12, 2),
            JAN,
            "Sem cobrança a partir da competência 01/2027; se ela já foi faturada, o valor volta "
            "como crédito na próxima fatura.",
        ),
        (
            MovementKind.TRANSFER,
            date(2026, 11, 26),
            JAN,
            "A partir da competência 12/2026, a cobrança passa à empresa de destino.",
        ),
        (
            MovementKind.TRANSFER,
            date(2026, 12, 1),
            JAN,
            "A partir da competência 12/2026, a cobrança passa à empresa de destino.",
        ),
        (MovementKind.UPDATE, date(2026, 11, 26), JAN, None),
    ],
)
def test_what_a_movement_does_to_the_invoice(kind, effective, billing, expected):
    assert invoice_effect(kind, effective, billing) == expected


def test_a_form_with_a_retroactive_date_is_the_retroactive_channel_which_charges_back():
    assert movement_channel(date(2026, 10, 1)) is Channel.RETROACTIVE
    assert movement_channel(None) is Channel.INDIVIDUAL


EXCLUDED = date(2026, 11, 1)


@pytest.mark.parametrize(
    ("relationship", "reason", "excluded", "today", "expected"),
    [
        (Relationship.HOLDER, "demissao", EXCLUDED, EXCLUDED, True),
        (Relationship.HOLDER, "aposentadoria", EXCLUDED, EXCLUDED + timedelta(30), True),
        (Relationship.HOLDER, "demissao", EXCLUDED, EXCLUDED + timedelta(31), False),
        (Relationship.HOLDER, "demissao", EXCLUDED, EXCLUDED - timedelta(1), False),
        (Relationship.HOLDER, "pedido", EXCLUDED, EXCLUDED, False),
        (Relationship.HOLDER, "demissao", None, EXCLUDED, False),
        (Relationship.SPOUSE, "demissao", EXCLUDED, EXCLUDED, False),
    ],
)
def test_only_a_holder_dismissed_or_retired_up_to_30_days_ago_may_opt_for_the_stay(
    relationship, reason, excluded, today, expected
):
    assert (
        may_opt_for_stay(
            relationship_code=relationship,
            exclusion_reason=reason,
            exclusion_date=excluded,
            today=today,
        )
        is expected
    )
