"""Waiting periods (carência) at inclusion: contract periods, RN 195 art. 6, newborns."""

from datetime import date

import pytest

from services.rules.errors import FieldErrors
from services.rules.waiting import (
    DEFAULT_WAITING_DAYS,
    REASON_ADMISSION,
    REASON_CONTRACT,
    REASON_HOLDER_ADMISSION,
    REASON_NEWBORN,
    URGENCY,
    WAITING_GROUPS,
    WaitingResult,
    clean_waiting_days,
    contract_waiting_days,
    legal_max_days,
    stored_periods,
    waiting_periods,
    waiting_summary,
)

CONTRACT = date(2024, 1, 1)
HOLDER, SPOUSE, CHILD = 1, 3, 4
EXEMPTION_REASONS = {REASON_ADMISSION, REASON_CONTRACT, REASON_HOLDER_ADMISSION, REASON_NEWBORN}


def is_exempt(result: WaitingResult) -> bool:
    """No waiting in any group, for one of the exemption reasons."""
    return result.reason in EXEMPTION_REASONS and not any(result.periods.values())


def compute(**kw):
    args = dict(
        contract_days={"Urgência": 1, "Prevenção": 0, "Ortodontia": 180},
        effective=date(2026, 12, 1),
        requested=date(2026, 12, 3),
        participants=40,
        contract_start=CONTRACT,
        admission_date=date(2026, 11, 10),
        relationship=HOLDER,
        birth_date=date(1990, 5, 5),
    )
    args.update(kw)
    return waiting_periods(**args)


def test_defaults_cover_the_projects_dental_groups_within_the_legal_maxima():
    assert set(DEFAULT_WAITING_DAYS) == set(WAITING_GROUPS)
    assert DEFAULT_WAITING_DAYS[URGENCY] == 1  # 24 hours
    for group, days in DEFAULT_WAITING_DAYS.items():
        assert 0 <= days <= legal_max_days(group)
    assert legal_max_days("Ortodontia") == 180
    assert legal_max_days("Parto") == 300
    assert contract_waiting_days(None) == dict(DEFAULT_WAITING_DAYS)


def test_thirty_participants_and_inclusion_within_30_days_of_admission_is_exempt():
    r = compute()
    assert is_exempt(r)
    assert r.periods == {"Urgência": None, "Prevenção": None, "Ortodontia": None}
    assert r.reason == REASON_ADMISSION
    assert r.reason == "Isento: inclusão em até 30 dias da admissão (RN 195, art. 6)"
    assert r.as_json() == {"Urgência": None, "Prevenção": None, "Ortodontia": None}


def test_day_30_after_admission_is_in_day_31_is_out():
    assert is_exempt(compute(requested=date(2026, 12, 10)))  # 10/11 + 30 days
    late = compute(requested=date(2026, 12, 11))
    assert not is_exempt(late)
    # 180 days from the effective date 01/12/2026: the last day of waiting is day 180.
    assert late.periods == {
        "Urgência": date(2026, 12, 1),  # 24 h: covered from the next day
        "Prevenção": None,  # 0 days: no waiting
        "Ortodontia": date(2027, 5, 29),
    }
    assert late.as_json()["Ortodontia"] == "2027-05-29"
    assert "mais de 30 dias após a admissão (10/11/2026)" in late.reason


def test_29_participants_is_not_exempt_even_on_the_admission_day():
    r = compute(participants=29, requested=date(2026, 11, 10))
    assert not is_exempt(r)
    assert r.periods["Ortodontia"] == date(2027, 5, 29)
    assert "29 participantes, menos de 30" in r.reason
    # The threshold is a parameter (when and how participants are counted is unverified).
    assert is_exempt(compute(participants=29, min_participants=20))


def test_inclusion_within_30_days_of_the_contract_start_is_exempt():
    r = compute(
        contract_start=date(2026, 11, 15),
        admission_date=date(2015, 1, 1),
        requested=date(2026, 12, 15),
    )
    assert is_exempt(r) and r.reason == REASON_CONTRACT
    assert not is_exempt(
        compute(
            contract_start=date(2026, 11, 15),
            admission_date=date(2015, 1, 1),
            requested=date(2026, 12, 16),
        )
    )


def test_a_request_before_the_admission_is_within_the_window():
    assert is_exempt(compute(admission_date=date(2027, 1, 5), requested=date(2026, 12, 20)))


def test_a_dependent_reads_its_holders_admission():
    r = compute(relationship=SPOUSE, holder_admission=True, birth_date=date(1992, 1, 1))
    assert is_exempt(r) and r.reason == REASON_HOLDER_ADMISSION
    late = compute(
        relationship=SPOUSE,
        holder_admission=True,
        birth_date=date(1992, 1, 1),
        requested=date(2027, 2, 1),
    )
    assert not is_exempt(late) and "admissão do titular" in late.reason


def test_a_newborn_child_within_30_days_of_birth_is_exempt_whatever_the_size():
    born = date(2026, 11, 20)
    r = compute(
        relationship=CHILD,
        birth_date=born,
        participants=3,
        requested=date(2026, 12, 20),
        admission_date=date(2010, 1, 1),
        holder_admission=True,
    )
    assert is_exempt(r) and r.reason == REASON_NEWBORN
    late = compute(
        relationship=CHILD,
        birth_date=born,
        participants=3,
        requested=date(2026, 12, 21),
        admission_date=date(2010, 1, 1),
        holder_admission=True,
    )
    assert not is_exempt(late)
    # A spouse born recently is no newborn of the holder (only children).
    assert not is_exempt(
        compute(
            relationship=SPOUSE, birth_date=born, participants=3, admission_date=date(2010, 1, 1)
        )
    )


def test_without_admission_date_only_the_contract_start_counts():
    r = compute(admission_date=None)
    assert not is_exempt(r)
    assert "sem data de admissão" in r.reason


def test_clean_waiting_days_refuses_unknown_groups_and_periods_above_the_law():
    assert clean_waiting_days({"Urgência": "1", "Ortodontia": 120}) == {
        "Urgência": 1,
        "Ortodontia": 120,
    }
    with pytest.raises(FieldErrors) as exc:
        clean_waiting_days(
            {"Urgência": 2, "Ortodontia": 181, "Prótese": -1, "Cirurgia": "x", "Estética": 10}
        )
    errors = exc.value.errors
    assert "24 horas" in errors["Urgência"]
    assert "180 dias" in errors["Ortodontia"]
    assert "negativo" in errors["Prótese"]
    assert "inteiro" in errors["Cirurgia"]
    assert "desconhecido" in errors["Estética"]


def test_stored_periods_and_summary():
    assert stored_periods(None) is None
    assert waiting_summary(None) == "não calculada"
    assert waiting_summary({"Urgência": None, "Ortodontia": None}) == "Isento"
    stored = {"Ortodontia": "2027-06-01", "Urgência": "2026-12-01", "Prevenção": None}
    assert list(stored_periods(stored)) == ["Urgência", "Prevenção", "Ortodontia"]
    assert waiting_summary(stored) == "Urgência até 01/12/2026; Ortodontia até 01/06/2027"
    # On a date, only the groups still waiting.
    assert waiting_summary(stored, on=date(2027, 1, 1)) == "Ortodontia até 01/06/2027"
    assert waiting_summary(stored, on=date(2027, 6, 2)) == "Carência cumprida"
    # Groups ending on the same day are listed together, in group order.
    same = {"Ortodontia": "2027-05-29", "Prótese": "2027-05-29", "Urgência": "2026-12-01"}
    assert waiting_summary(same) == "Urgência até 01/12/2026; Prótese, Ortodontia até 29/05/2027"
