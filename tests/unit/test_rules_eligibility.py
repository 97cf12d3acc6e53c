"""Dependent eligibility (RN 557/2022), CPF requirement, stay after leaving (Lei 9.656)."""

from collections.abc import Mapping
from typing import Any

import pytest

from services.rules.eligibility import (
    DEFAULT_ELIGIBILITY,
    Relationship,
    StayReason,
    check_dependent_eligibility,
    cpf_required,
    stay_period_months,
)
from services.rules.errors import DomainError


@pytest.mark.parametrize(
    ("relationship", "code", "label"),
    [
        (Relationship.HOLDER, 1, "Titular"),
        (Relationship.SPOUSE, 3, "Cônjuge/Companheiro(a)"),
        (Relationship.CHILD, 4, "Filho(a)"),
        (Relationship.STEPCHILD, 6, "Enteado(a)"),
        (Relationship.PARENT, 8, "Pai/Mãe"),
        (Relationship.OTHER, 10, "Agregado/Outros"),
    ],
)
def test_relationship_codes_are_the_ans_sib_codes_with_portuguese_labels(
    relationship: Relationship, code: int, label: str
) -> None:
    assert relationship == code
    assert Relationship(code).label == label


def test_default_table_admits_spouse_children_and_stepchildren_only() -> None:
    assert set(DEFAULT_ELIGIBILITY) == {3, 4, 6, 8, 10}
    allowed = {code for code, rule in DEFAULT_ELIGIBILITY.items() if rule["allowed"]}
    assert allowed == {3, 4, 6}
    assert DEFAULT_ELIGIBILITY[4] == {"allowed": True, "max_age": 21, "student_max_age": 24}
    assert DEFAULT_ELIGIBILITY[6] == DEFAULT_ELIGIBILITY[4]


@pytest.mark.parametrize(
    ("relationship", "age", "is_student"),
    [
        (3, 80, False),
        (4, 0, False),
        (4, 21, False),  # the age limit is inclusive
        (4, 22, True),
        (4, 24, True),
        (6, 21, False),
        (6, 24, True),
    ],
)
def test_default_table_admits(relationship: int, age: int, is_student: bool) -> None:
    check_dependent_eligibility(relationship, age, is_student, DEFAULT_ELIGIBILITY)


@pytest.mark.parametrize(
    ("relationship", "age", "is_student", "field", "fragment"),
    [
        (4, 22, False, "birth_date", "estudante"),
        (4, 25, True, "birth_date", "limite de idade"),
        (6, 25, False, "birth_date", "limite de idade"),
        (8, 60, False, "relationship_code", "Pai/Mãe"),
        (10, 30, False, "relationship_code", "Agregado/Outros"),
        (1, 30, False, "relationship_code", "Titular"),
        (5, 30, False, "relationship_code", "inexistente"),
        (4, -1, False, "birth_date", "futura"),
    ],
)
def test_default_table_refuses_with_the_field_to_fix(
    relationship: int, age: int, is_student: bool, field: str, fragment: str
) -> None:
    with pytest.raises(DomainError) as refused:
        check_dependent_eligibility(relationship, age, is_student, DEFAULT_ELIGIBILITY)
    assert refused.value.field == field
    assert fragment in refused.value.message


CLOSED_CONTRACT: Mapping[Any, Mapping[str, Any]] = {
    3: {"allowed": False, "max_age": None, "student_max_age": None},
    4: {"allowed": False, "max_age": 18, "student_max_age": None},
    6: {"allowed": False, "max_age": None, "student_max_age": None},
}


@pytest.mark.parametrize(("relationship", "age"), [(3, 40), (4, 10), (4, 18)])
def test_children_and_spouse_are_admissible_even_if_the_contract_says_no(
    relationship: int, age: int
) -> None:
    check_dependent_eligibility(relationship, age, False, CLOSED_CONTRACT)


def test_the_contract_age_limit_of_children_still_applies() -> None:
    with pytest.raises(DomainError) as refused:
        check_dependent_eligibility(4, 19, True, CLOSED_CONTRACT)
    assert refused.value.field == "birth_date"


def test_stepchildren_follow_the_contract() -> None:
    with pytest.raises(DomainError) as refused:
        check_dependent_eligibility(6, 5, False, CLOSED_CONTRACT)
    assert refused.value.field == "relationship_code"


def test_a_contract_may_admit_parents() -> None:
    table = {8: {"allowed": True, "max_age": None, "student_max_age": None}}
    check_dependent_eligibility(Relationship.PARENT, 70, False, table)


def test_a_table_loaded_from_json_has_string_keys() -> None:
    table = {"4": {"allowed": True, "max_age": 24, "student_max_age": None}}
    check_dependent_eligibility(4, 24, False, table)
    with pytest.raises(DomainError):
        check_dependent_eligibility(4, 25, True, table)


def test_relationships_missing_from_the_table_are_refused_except_children_and_spouse() -> None:
    check_dependent_eligibility(3, 50, False, {})
    check_dependent_eligibility(4, 21, False, {})
    with pytest.raises(DomainError) as refused:
        check_dependent_eligibility(4, 22, False, {})  # the default child limit
    assert refused.value.field == "birth_date"
    with pytest.raises(DomainError) as refused:
        check_dependent_eligibility(6, 5, False, {})
    assert refused.value.field == "relationship_code"


@pytest.mark.parametrize(
    ("relationship", "age", "required"),
    [
        (1, 0, True),
        (1, 40, True),
        (3, 17, False),
        (3, 18, True),
        (4, 0, False),
        (4, 17, False),
        (4, 18, True),
        (Relationship.OTHER, 30, True),
    ],
)
def test_cpf_is_required_for_holders_and_adult_dependents(
    relationship: int, age: int, required: bool
) -> None:
    assert cpf_required(relationship, age) == required


@pytest.mark.parametrize(
    ("reason", "months", "stay"),
    [
        (StayReason.DISMISSAL_WITHOUT_CAUSE, 0, 0),
        (StayReason.DISMISSAL_WITHOUT_CAUSE, 1, 6),  # at least 6 months
        (StayReason.DISMISSAL_WITHOUT_CAUSE, 18, 6),
        (StayReason.DISMISSAL_WITHOUT_CAUSE, 19, 7),  # a third, rounded up
        (StayReason.DISMISSAL_WITHOUT_CAUSE, 36, 12),
        (StayReason.DISMISSAL_WITHOUT_CAUSE, 72, 24),
        (StayReason.DISMISSAL_WITHOUT_CAUSE, 200, 24),  # at most 24 months
        ("dismissal_without_cause", 30, 10),
        (StayReason.RETIREMENT, 0, 0),
        (StayReason.RETIREMENT, 11, 0),
        (StayReason.RETIREMENT, 12, 12),  # one year per full year
        (StayReason.RETIREMENT, 119, 108),
        (StayReason.RETIREMENT, 120, None),  # 10 years or more: indefinitely
        (StayReason.RETIREMENT, 400, None),
        ("retirement", 60, 60),
        ("resignation", 120, 0),
        ("dismissal_with_cause", 120, 0),
    ],
)
def test_stay_period_after_leaving_the_company(reason: str, months: int, stay: int | None) -> None:
    assert stay_period_months(reason, months) == stay


def test_negative_contribution_time_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        stay_period_months(StayReason.RETIREMENT, -1)
    assert refused.value.field == "contribution_months"
